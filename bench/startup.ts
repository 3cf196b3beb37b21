// Readiness of `runguard up` on a warm data directory: from starting the process to its "front end:" line (every
// port bound and serving), as a user or a test script waits for it. The first start (keys, CA, project) is not
// counted: it happens once per data directory.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../bin/runguard.js", import.meta.url));
const FREE_PORTS = ["--port", "0", "--front-end-port", "0", "--lb-port", "0", "--lb-https-port", "0"];

export interface StartupReport {
  firstStartMs: number;
  warmMs: number[];
  medianMs: number;
}

/** Starts `up`, resolves with the milliseconds until its "front end:" line, then stops it with SIGINT. */
function timeToReady(dataDir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // The bin itself, as a shell runs `runguard up`: its #! line gives Node runguard's settings.
    const child = spawn(bin, ["--data-dir", dataDir, "up", ...FREE_PORTS], {
      stdio: ["ignore", "pipe", "pipe"],
      // Not a test's or the CLI's own settings: what a user's shell gives.
      env: { ...process.env, RUNGUARD_LAUNCHER_PID: "" },
    });
    let output = "";
    let readyMs: number | undefined;
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (readyMs === undefined && output.includes("front end:")) {
        readyMs = performance.now() - started;
        child.kill("SIGINT");
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("close", () =>
      readyMs === undefined ? reject(new Error(`up did not start: ${output}`)) : resolve(readyMs),
    );
  });
}

export async function runStartupBench(starts: number): Promise<StartupReport> {
  const dataDir = mkdtempSync(join(tmpdir(), "rg-bench-startup-"));
  try {
    const firstStartMs = await timeToReady(dataDir);
    const warmMs: number[] = [];
    for (let i = 0; i < starts; i++) warmMs.push(await timeToReady(dataDir));
    const sorted = [...warmMs].sort((a, b) => a - b);
    return { firstStartMs, warmMs, medianMs: sorted[Math.floor(sorted.length / 2)] ?? 0 };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function formatStartupReport(report: StartupReport): string {
  const warm = report.warmMs.map((ms) => ms.toFixed(0)).join(", ");
  return [
    `  first start (new data directory): ${report.firstStartMs.toFixed(0)} ms`,
    `  warm data directory: median ${report.medianMs.toFixed(0)} ms to the "front end:" line (${warm}) (target < 1000 ms)`,
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log("runguard up readiness:");
  console.log(formatStartupReport(await runStartupBench(Number(process.env["BENCH_UP_STARTS"] ?? 5))));
}
