import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "./sqlite-store.js";
import { createMemoryStore } from "./memory-store.js";
import { ApiError } from "../core/errors.js";
import type { Change, Store } from "./store.js";

const dirs: string[] = [];
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "rg-store-"));
  dirs.push(dir);
  return dir;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const backends: Array<[string, () => Store]> = [
  ["sqlite", () => openSqliteStore({ dataDir: join(tempDir(), "data"), watchExternalMs: 0 })],
  ["memory", () => createMemoryStore()],
];

for (const [name, open] of backends) {
  describe(`${name} store contract`, () => {
    it("puts, gets, lists by prefix (names with % and _) and deletes", async () => {
      const store = open();
      await store.transact(async (tx) => {
        tx.put("secret", "projects/p/secrets/a_b%c", { v: 1 });
        tx.put("secret", "projects/p/secrets/axb", { v: 2 });
        tx.put("secret", "projects/q/secrets/a", { v: 3 });
      });
      assert.deepEqual(await store.get("secret", "projects/p/secrets/a_b%c"), { v: 1 });
      assert.deepEqual(await store.list("secret", "projects/p/secrets/a_"), [{ v: 1 }]);
      assert.equal((await store.list("secret", "projects/p/")).length, 2);
      await store.transact(async (tx) => tx.delete("secret", "projects/p/secrets/axb"));
      assert.equal(await store.get("secret", "projects/p/secrets/axb"), undefined);
      await store.close();
    });

    it("a transaction that throws writes nothing", async () => {
      const store = open();
      await assert.rejects(
        store.transact(async (tx) => {
          tx.put("user", "users/a", { n: 1 });
          throw new Error("validation failed");
        }),
      );
      assert.equal(await store.get("user", "users/a"), undefined);
      await store.close();
    });

    it("overlapping transactions retry and both increments survive", async () => {
      const store = open();
      await store.transact(async (tx) => tx.put("setting", "counter", { n: 0 }));
      let runs = 0;
      const increment = () =>
        store.transact(async (tx) => {
          runs++;
          const current = (await tx.get<{ n: number }>("setting", "counter"))!;
          await new Promise((r) => setTimeout(r, 5));
          tx.put("setting", "counter", { n: current.n + 1 });
        });
      await Promise.all([increment(), increment()]);
      assert.deepEqual(await store.get("setting", "counter"), { n: 2 });
      assert.ok(runs >= 3, "one of the transactions ran again");
      await store.close();
    });

    it("gives up with ABORTED under endless contention", async () => {
      const store = open();
      await store.transact(async (tx) => tx.put("setting", "hot", { n: 0 }));
      const conflicting = store.transact(async (tx) => {
        await tx.get("setting", "hot");
        await store.transact(async (inner) => inner.put("setting", "hot", { n: Math.random() }));
        tx.put("setting", "hot", { n: -1 });
      });
      await assert.rejects(conflicting, (e: unknown) => e instanceof ApiError && e.status === "ABORTED");
      await store.close();
    });

    it("notifies committed changes in order, and a throwing listener breaks nothing", async () => {
      const store = open();
      const seen: Change[] = [];
      store.onChange(() => {
        throw new Error("bad listener");
      });
      store.onChange((c) => seen.push(c));
      await store.transact(async (tx) => {
        tx.put("group", "groups/a", { email: "a" });
        tx.put("group", "groups/b", { email: "b" });
      });
      await store.transact(async (tx) => tx.delete("group", "groups/a"));
      assert.deepEqual(
        seen.map((c) => [c.name, c.value === undefined]),
        [
          ["groups/a", false],
          ["groups/b", false],
          ["groups/a", true],
        ],
      );
      await store.close();
    });

    it("reads logs by prefix, time and order", async () => {
      const store = open();
      for (const [i, log] of ["a%2Factivity", "a%2Frequests", "b%2Factivity"].entries()) {
        await store.appendLog({
          timestamp: `2026-01-0${i + 1}T00:00:00.000Z`,
          logName: `projects/p/logs/${log}`,
          entry: { i },
        });
      }
      const activity = await store.readLogs({ logNamePrefix: "projects/p/logs/a%2F" });
      assert.deepEqual(
        activity.map((r) => r.entry["i"]),
        [1, 0],
      );
      const since = await store.readLogs({ sinceTimestamp: "2026-01-02T00:00:00.000Z", newestFirst: false });
      assert.deepEqual(
        since.map((r) => r.entry["i"]),
        [1, 2],
      );
      await store.close();
    });
  });
}

describe("sqlite store files", () => {
  it("keeps data across reopen, applies migrations once, and is private to its owner", async () => {
    const dataDir = join(tempDir(), "data");
    const first = openSqliteStore({ dataDir, watchExternalMs: 0 });
    await first.transact(async (tx) => tx.put("project", "projects/p", { projectId: "p" }));
    await first.close();
    await first.close();
    const second = openSqliteStore({ dataDir, watchExternalMs: 0 });
    assert.deepEqual(await second.get("project", "projects/p"), { projectId: "p" });
    await assert.rejects(first.get("project", "projects/p"));
    await second.close();
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dataDir, "runguard.db")).mode & 0o777, 0o600);
  });

  it("announces commits made by another process (here: another connection) as a reload", async () => {
    const dataDir = join(tempDir(), "data");
    const watcher = openSqliteStore({ dataDir, watchExternalMs: 20 });
    const writer = openSqliteStore({ dataDir, watchExternalMs: 0 });
    const seen: string[] = [];
    watcher.onChange((c) => seen.push(c.kind));
    await writer.transact(async (tx) => tx.put("group", "groups/x", { email: "x" }));
    await new Promise((r) => setTimeout(r, 120));
    assert.ok(seen.includes("*"));
    await writer.close();
    await watcher.close();
  });
});
