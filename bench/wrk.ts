// Runs wrk (Debian's package) and parses its report: requests/s, latency percentiles, non-2xx count.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === "us" ? n / 1000 : unit === "s" ? n * 1000 : n;
}

export function parseWrk(output: string): WrkResult {
  const percentile = (p: string) => {
    const match = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(output);
    if (!match?.[1] || !match[2]) throw new Error(`wrk output has no ${p}% line:\n${output}`);
    return toMs(match[1], match[2]);
  };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output)?.[1];
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requestsPerSecond: Number(rps ?? 0),
    p50Ms: percentile("50"),
    p99Ms: percentile("99"),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
    errors: errors ? errors.slice(1).reduce((n, v) => n + Number(v), 0) : 0,
  };
}

export async function wrk(
  url: string,
  options: { connections: number; seconds: number; headers?: Record<string, string> },
): Promise<WrkResult> {
  const args = ["-t1", `-c${options.connections}`, `-d${options.seconds}s`, "--latency"];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push("-H", `${name}: ${value}`);
  const { stdout } = await run("wrk", [...args, url], { maxBuffer: 1 << 20 });
  return parseWrk(stdout);
}
