// The instance log writer's bounds: an instance's budget, its share of the queue and the queue's own limit; what
// goes over them is dropped, counted and reported, and one instance's flood leaves room for another's lines.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createMemoryStore } from "../store/memory-store.js";
import type { LogEntryRecord, Store } from "../store/store.js";
import type { StoredRevision } from "../run/types.js";
import { ENTRY_OVERHEAD_BYTES, createInstanceLogWriter, type InstanceLogLimits } from "./instance-logs.js";

const revision = (service: string) =>
  ({ name: `${service}-00001-abc`, service, projectId: "p", region: "us-central1" }) as StoredRevision;
const LINE = "x".repeat(1000 - ENTRY_OVERHEAD_BYTES); // each line charges 1000 bytes
const limits: InstanceLogLimits = {
  instanceBytesPerSecond: 10_000,
  instanceBurstBytes: 20_000,
  queueMaxBytes: 20_000,
  queueMaxEntries: 100,
  reportQuietMs: 100,
  reportEveryMs: 60_000,
};

/** A store whose log writes wait until release() (the database busy), counting what waits. */
function stalledStore() {
  const store = createMemoryStore();
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const stalled: Store = {
    ...store,
    appendLogs: async (records) => {
      await released;
      await store.appendLogs(records);
    },
  };
  return { store: stalled, release };
}

const textsOf = (records: LogEntryRecord[]) => records.map((r) => String(r.entry["textPayload"]));
const logsOf = async (store: Store, log: string) =>
  (await store.readLogs({ logNamePrefix: `projects/p/logs/run.googleapis.com%2F${log}`, limit: Infinity })).reverse();

describe("instance log writer", () => {
  it("writes every line within the budget, in order, as INFO (stdout) and ERROR (stderr)", async () => {
    const store = createMemoryStore();
    const writer = createInstanceLogWriter(store, limits, () => 0);
    writer.write(revision("a"), "i1", "stdout", "one");
    writer.write(revision("a"), "i1", "stderr", "two");
    writer.write(revision("a"), "i1", "stdout", "three");
    await writer.close();
    assert.deepEqual(textsOf(await logsOf(store, "stdout")), ["one", "three"]);
    const [stderr] = await logsOf(store, "stderr");
    assert.equal(stderr?.entry["severity"], "ERROR");
    assert.deepEqual(await logsOf(store, "varlog%2Fsystem"), []);
  });

  it("past the instance's burst drops lines, counts them, and says so in one WARNING entry", async () => {
    const store = createMemoryStore();
    let now = 0;
    const writer = createInstanceLogWriter(store, { ...limits, queueMaxBytes: 1e9 }, () => now);
    for (let i = 0; i < 50; i++) writer.write(revision("a"), "i1", "stdout", LINE);
    now += 1000; // a second later, a second's worth more
    for (let i = 0; i < 50; i++) writer.write(revision("a"), "i1", "stdout", LINE);
    await writer.close();
    assert.equal((await logsOf(store, "stdout")).length, 30, "20 lines of burst, then 10 in a second");
    const warnings = await logsOf(store, "varlog%2Fsystem");
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.entry["severity"], "WARNING");
    assert.equal(
      warnings[0]?.entry["textPayload"],
      "runguard dropped 70 log lines from this instance: more than 0.01 MiB/s",
    );
    assert.deepEqual(warnings[0]?.entry["labels"], { instanceId: "i1" });
  });

  it("while the store is behind, an instance holds only its share of the queue, and another still logs", async () => {
    const { store, release } = stalledStore();
    const writer = createInstanceLogWriter(store, limits, () => 0);
    for (let i = 0; i < 20; i++) writer.write(revision("noisy"), "noisy-1", "stdout", `noisy ${i}`.padEnd(400));
    for (let i = 0; i < 3; i++) writer.write(revision("quiet"), "quiet-1", "stdout", `quiet ${i}`);
    release();
    await writer.close();
    const lines = textsOf(await logsOf(store, "stdout"));
    assert.deepEqual(
      lines.filter((line) => line.startsWith("quiet")),
      ["quiet 0", "quiet 1", "quiet 2"],
    );
    // Alone in the queue, half of it: 10,000 bytes at 912 bytes a line.
    assert.equal(lines.filter((line) => line.startsWith("noisy")).length, 10);
    const [warning] = await logsOf(store, "varlog%2Fsystem");
    assert.equal(
      warning?.entry["textPayload"],
      "runguard dropped 10 log lines from this instance: faster than runguard could store them",
    );
    assert.equal((warning?.entry["resource"] as { labels: Record<string, string> }).labels["service_name"], "noisy");
  });

  it("keeps the whole queue within its bytes and entries, whatever the number of instances", async () => {
    const { store, release } = stalledStore();
    const writer = createInstanceLogWriter(store, { ...limits, queueMaxEntries: 12 }, () => 0);
    for (let instance = 0; instance < 10; instance++)
      for (let i = 0; i < 10; i++) writer.write(revision("many"), `i${instance}`, "stdout", "short");
    release();
    await writer.close();
    assert.equal((await logsOf(store, "stdout")).length, 12);
    const warnings = await logsOf(store, "varlog%2Fsystem");
    const dropped = warnings.map((w) => Number(/dropped (\d+)/.exec(String(w.entry["textPayload"]))?.[1]));
    assert.equal(
      dropped.reduce((a, b) => a + b, 0),
      88,
    );
  });

  it("reports drops once the instance has been quiet for reportQuietMs, without waiting for close", async () => {
    const store = createMemoryStore();
    const writer = createInstanceLogWriter(store, { ...limits, instanceBurstBytes: 1000 });
    try {
      for (let i = 0; i < 5; i++) writer.write(revision("a"), "i1", "stdout", LINE);
      let warnings: LogEntryRecord[] = [];
      for (let tries = 0; tries < 50 && warnings.length === 0; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        warnings = await logsOf(store, "varlog%2Fsystem");
      }
      assert.match(String(warnings[0]?.entry["textPayload"]), /^runguard dropped [34] log lines/);
    } finally {
      await writer.close();
    }
    assert.equal((await logsOf(store, "varlog%2Fsystem")).length, 1, "nothing left to report at close");
  });
});
