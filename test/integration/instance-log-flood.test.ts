// An instance that floods stdout must not grow runguard's memory or disk without bound, nor slow other services:
// past its budget, lines are dropped, counted, and one WARNING entry per instance says how many. Instance logs
// are deleted past the retention age, as request logs are. Real runguard, real instances; figures are printed.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { startTestRunguard, PROJECT, type TestRunguard } from "../helpers/runguard-instance.js";
import { deploy, registerTestImages } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";
import { addImage } from "../../src/run/images.js";
import type { LogEntryRecord } from "../../src/store/store.js";
import { DEFAULT_INSTANCE_LOG_LIMITS, ENTRY_OVERHEAD_BYTES } from "../../src/runtime/instance-logs.js";

const FLOOD_IMAGE = "gcr.io/runguard-tests/log-flood";
const FLOOD_MIB = 100;
const MB = 1024 * 1024;

// A full garbage collection before a sample, so heap figures compare like with like.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const logName = (log: string) => `projects/${PROJECT}/logs/run.googleapis.com%2F${log}`;

async function startWithFloodImage(overrides: Record<string, unknown> = {}): Promise<TestRunguard> {
  const rg = await startTestRunguard(overrides);
  await registerTestImages(rg);
  const apps = fileURLToPath(new URL("../../../test/fixtures/apps/", import.meta.url));
  await addImage(rg.platform.store, FLOOD_IMAGE, apps, [process.execPath, "log-flood.mjs"]);
  return rg;
}

/** Polls the store until `found` holds for the entries of `log`, or the deadline passes. */
async function waitForLogs(
  rg: TestRunguard,
  log: string,
  found: (entries: LogEntryRecord[]) => boolean,
  timeoutMs = 20_000,
): Promise<LogEntryRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entries = await rg.platform.store.readLogs({ logNamePrefix: logName(log), limit: Infinity });
    if (found(entries) || Date.now() > deadline) return entries;
    await sleep(100);
  }
}

/** The lines the warnings among `entries` say were dropped. */
function droppedIn(entries: LogEntryRecord[]): number {
  return entries
    .map((e) => /^runguard dropped (\d+) log lines/.exec(String(e.entry["textPayload"]))?.[1])
    .reduce((sum, count) => sum + Number(count ?? 0), 0);
}

describe("an instance flooding stdout", () => {
  let rg: TestRunguard;
  let floodUrl: string;
  let echoUrl: string;

  before(async () => {
    rg = await startWithFloodImage();
    [floodUrl = ""] = await deploy(rg, "flood", { image: FLOOD_IMAGE, public: true });
    [echoUrl = ""] = await deploy(rg, "quiet", { public: true });
    // Both instances up before measuring.
    assert.equal((await invokeUrl(rg.endpoints.frontEnd, floodUrl)).status, 200);
    assert.equal((await invokeUrl(rg.endpoints.frontEnd, echoUrl)).status, 200);
  });
  after(() => rg?.stop());

  it(`${FLOOD_MIB} MiB of stdout leave runguard's heap bounded, another service answering, and a 'dropped' entry`, async () => {
    await waitForLogs(rg, "stdout", (entries) => entries.some((e) => e.entry["textPayload"] === "log-flood started"));
    collectGarbage();
    const baseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 10);

    // Meanwhile another service is called again and again; every call must answer, and quickly.
    let flooding = true;
    const latencies: number[] = [];
    const quietCalls = (async () => {
      while (flooding) {
        const started = performance.now();
        const answer = await invokeUrl(rg.endpoints.frontEnd, echoUrl);
        latencies.push(performance.now() - started);
        assert.equal(answer.status, 200);
        await sleep(20);
      }
    })();
    const started = performance.now();
    const flood = await invokeUrl(rg.endpoints.frontEnd, floodUrl, { path: `/flood?mib=${FLOOD_MIB}` });
    const floodMs = performance.now() - started;
    flooding = false;
    await quietCalls;
    assert.equal(flood.status, 200, flood.body);

    // What is still queued when the flood ends is what the bound is about; then the queue drains.
    clearInterval(sampler);
    collectGarbage();
    const atEnd = process.memoryUsage().heapUsed;
    // Every line is either stored or counted in a warning: none is lost silently.
    const floodLines = async () =>
      (await rg.platform.store.readLogs({ logNamePrefix: logName("stdout"), limit: Infinity })).filter((e) =>
        String(e.entry["textPayload"]).startsWith("FFFF"),
      ).length;
    let stored = 0;
    const warnings = await waitForLogs(rg, "varlog%2Fsystem", (entries) => {
      void floodLines().then((count) => (stored = count));
      return stored + droppedIn(entries) === FLOOD_MIB * 1024;
    });
    stored = await floodLines();
    const dropped = droppedIn(warnings);
    collectGarbage();
    const drained = process.memoryUsage().heapUsed;
    const slowest = Math.max(...latencies);
    console.log(
      `flood of ${FLOOD_MIB} MiB in ${Math.round(floodMs)} ms: heap ${(baseline / MB).toFixed(1)} MB before, ` +
        `peak +${((peak - baseline) / MB).toFixed(1)} MB, +${((atEnd - baseline) / MB).toFixed(1)} MB at its end ` +
        `(after a full GC), +${((drained - baseline) / MB).toFixed(1)} MB drained; ${stored} lines stored, ${dropped} dropped ` +
        `(${warnings.length} warnings: ${String(warnings[0]?.entry["textPayload"])}); ` +
        `${latencies.length} calls to another service, slowest ${Math.round(slowest)} ms`,
    );

    assert.ok(atEnd - baseline < 48 * MB, `heap grew by ${((atEnd - baseline) / MB).toFixed(1)} MB`);
    assert.ok(peak - baseline < 160 * MB, `heap peaked at +${((peak - baseline) / MB).toFixed(1)} MB`);
    assert.ok(stored > 100, `${stored} lines stored: the instance's budget let some through`);
    assert.equal(stored + dropped, FLOOD_MIB * 1024, `${stored} lines stored and ${dropped} reported dropped`);
    const warning = warnings[0];
    assert.ok(warning, "a WARNING entry says lines were dropped");
    assert.equal(warning.entry["severity"], "WARNING");
    assert.match(String(warning.entry["textPayload"]), /^runguard dropped \d+ log lines from this instance: /);
    const instanceId = (warning.entry["labels"] as Record<string, string>)["instanceId"];
    assert.ok(instanceId, "the warning names the instance");
    assert.equal(
      (warning.entry["resource"] as { labels: Record<string, string> }).labels["service_name"],
      "flood",
      "the warning is on the flooding revision",
    );
    assert.ok(latencies.length > 5, `${latencies.length} calls to the other service during the flood`);
    assert.ok(slowest < 2_000, `the slowest call to the other service took ${Math.round(slowest)} ms`);
  });

  it("the instance's lines after the flood are logged again", async () => {
    // Long enough for the instance's budget to refill by a MiB of lines.
    const { instanceBytesPerSecond } = DEFAULT_INSTANCE_LOG_LIMITS;
    await sleep((1000 * 1024 * (1024 + ENTRY_OVERHEAD_BYTES)) / instanceBytesPerSecond + 500);
    await invokeUrl(rg.endpoints.frontEnd, floodUrl, { path: `/flood?mib=0` });
    const before = (await rg.platform.store.readLogs({ logNamePrefix: logName("stdout"), limit: Infinity })).length;
    await invokeUrl(rg.endpoints.frontEnd, floodUrl, { path: `/flood?mib=1` });
    const after = await waitForLogs(rg, "stdout", (entries) => entries.length >= before + 1024, 10_000);
    assert.equal(after.length, before + 1024, "a MiB within the budget is stored whole");
  });
});

describe("instance log retention", () => {
  let rg: TestRunguard;
  after(() => rg?.stop());

  it("deletes stdout entries older than the retention age", async () => {
    rg = await startWithFloodImage({ requestLogMaxAgeDays: 1.5 / 86_400, requestLogRetentionCheckMs: 200 });
    const [url = ""] = await deploy(rg, "short-lived-logs", { image: FLOOD_IMAGE, public: true });
    assert.equal((await invokeUrl(rg.endpoints.frontEnd, url)).status, 200);
    const logged = await waitForLogs(rg, "stdout", (entries) =>
      entries.some((e) => e.entry["textPayload"] === "log-flood started"),
    );
    assert.ok(logged.length > 0, "the instance's first line is logged");
    const gone = await waitForLogs(rg, "stdout", (entries) => entries.length === 0, 10_000);
    assert.equal(gone.length, 0, "stdout entries older than 1.5 s are deleted");
  });
});
