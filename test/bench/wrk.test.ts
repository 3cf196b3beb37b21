// The benchmark's wrk adapter: the done() hook's histogram parses, pools and gives wrk's own percentiles.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { parseWrkReport, percentileUs, poolRuns, reportScript, summarize, type WrkRun } from "../../bench/wrk.js";

const run = (histogram: Array<[number, number]>, durationUs = 1_000_000): WrkRun => ({
  requests: histogram.reduce((n, [, c]) => n + c, 0),
  durationUs,
  non2xx: 0,
  errors: 0,
  histogram,
});

test("pooled runs add their counts per latency and their durations", () => {
  const pooled = poolRuns([
    run([
      [10, 90],
      [500, 10],
    ]),
    run(
      [
        [10, 50],
        [20, 49],
        [3000, 1],
      ],
      2_000_000,
    ),
  ]);
  assert.deepEqual(pooled.histogram, [
    [10, 140],
    [20, 49],
    [500, 10],
    [3000, 1],
  ]);
  assert.equal(pooled.requests, 200);
  assert.equal(pooled.durationUs, 3_000_000);
  assert.equal(summarize(pooled).requestsPerSecond.toFixed(2), "66.67");
});

test("percentiles follow wrk's definition: the latency at rank round(p/100 × count + 0.5)", () => {
  const r = run([
    [10, 97],
    [500, 2],
    [3000, 1],
  ]);
  assert.equal(percentileUs(r, 50), 10);
  assert.equal(percentileUs(r, 96), 10);
  assert.equal(percentileUs(r, 97), 500);
  assert.equal(percentileUs(r, 99), 3000);
});

/** wrk's printed latency ("812.00us", "1.23ms") in µs. */
function printedUs(output: string, percent: number): number {
  const match = new RegExp(`^\\s*${percent}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(output);
  assert.ok(match?.[1] && match[2], `no ${percent}% line in:\n${output}`);
  const value = Number(match[1]);
  return match[2] === "us" ? value : match[2] === "ms" ? value * 1000 : value * 1e6;
}

test("the histogram of a real wrk run gives wrk's own printed percentiles", async () => {
  const server = createServer((_req, res) => res.end("ok")).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  try {
    const { port } = server.address() as AddressInfo;
    const args = ["-t1", "-c2", "-d1s", "--latency", "-s", reportScript, `http://127.0.0.1:${port}/`];
    const { stdout } = await promisify(execFile)("wrk", args, { maxBuffer: 16 << 20 });
    const report = parseWrkReport(stdout);
    assert.ok(report.requests > 100, `only ${report.requests} requests`);
    assert.equal(report.errors, 0);
    for (const percent of [50, 90, 99]) {
      const printed = printedUs(stdout, percent);
      // wrk prints two decimals in its chosen unit.
      assert.ok(Math.abs(percentileUs(report, percent) - printed) <= Math.max(1, printed * 0.01), `p${percent}`);
    }
    const pooled = summarize(poolRuns([report, report]));
    assert.equal(pooled.p99Ms, percentileUs(report, 99) / 1000);
  } finally {
    server.close();
  }
});
