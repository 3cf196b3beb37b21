// Runs wrk (Debian's package) with a done() hook (fixtures/report.lua) that prints its whole latency histogram,
// so several rounds of one scenario can be pooled and their percentiles taken over every request.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
export const reportScript = fileURLToPath(new URL("../../bench/fixtures/report.lua", import.meta.url));

/** One wrk run, or several pooled: latencies in µs with their counts. */
export interface WrkRun {
  requests: number;
  durationUs: number;
  non2xx: number;
  errors: number;
  histogram: Array<[latencyUs: number, count: number]>;
}

export interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

export function parseWrkReport(output: string): WrkRun {
  const line = output.split("\n").find((l) => l.startsWith("WRK-REPORT "));
  if (!line) throw new Error(`wrk printed no report:\n${output}`);
  return JSON.parse(line.slice("WRK-REPORT ".length)) as WrkRun;
}

export function poolRuns(runs: WrkRun[]): WrkRun {
  const counts = new Map<number, number>();
  for (const r of runs) for (const [value, count] of r.histogram) counts.set(value, (counts.get(value) ?? 0) + count);
  return {
    requests: runs.reduce((n, r) => n + r.requests, 0),
    durationUs: runs.reduce((n, r) => n + r.durationUs, 0),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    histogram: [...counts].sort((x, y) => x[0] - y[0]),
  };
}

/** wrk's own percentile (stats_percentile): the latency at rank round(p/100 × count + 0.5). */
export function percentileUs(run: WrkRun, percent: number): number {
  const total = run.histogram.reduce((n, [, count]) => n + count, 0);
  const rank = Math.round((percent / 100) * total + 0.5);
  let seen = 0;
  for (const [value, count] of run.histogram) {
    seen += count;
    if (seen >= rank) return value;
  }
  return run.histogram.at(-1)?.[0] ?? 0;
}

export function summarize(run: WrkRun): WrkResult {
  return {
    requestsPerSecond: run.requests / (run.durationUs / 1e6),
    p50Ms: percentileUs(run, 50) / 1000,
    p99Ms: percentileUs(run, 99) / 1000,
    non2xx: run.non2xx,
    errors: run.errors,
  };
}

export async function wrk(
  url: string,
  options: { connections: number; seconds: number; headers?: Record<string, string> },
): Promise<WrkRun> {
  const args = ["-t1", `-c${options.connections}`, `-d${options.seconds}s`, "-s", reportScript];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push("-H", `${name}: ${value}`);
  const { stdout } = await run("wrk", [...args, url], { maxBuffer: 16 << 20 });
  return parseWrkReport(stdout);
}
