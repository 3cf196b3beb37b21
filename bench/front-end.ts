// Front-end benchmark: one run, one load generator (wrk), five ways to reach the same hello backend:
// (a) directly, (b) through nginx (keep-alive upstream), (c) runguard's front end, public service,
// (d) runguard's front end, private service with a valid ID token, (e) an express + http-proxy + jsonwebtoken
// gateway verifying every token. Each at 32 and at 2 connections; wrk uses one core, the server the other.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findFreePort } from "../src/runtime/process-instance.js";
import { fixtures, startBenchRunguard, type BenchRunguard } from "./bench-services.js";
import { startNginx } from "./nginx.js";
import { poolRuns, summarize, wrk, type WrkResult, type WrkRun } from "./wrk.js";

export type Scenario = "a-direct" | "b-nginx" | "c-public" | "d-private" | "e-express" | "f-bare-node";
export type FrontEndReport = Record<"high" | "low", Record<Scenario, WrkResult>>;

async function startNode(script: string, env: Record<string, string>, waitForOutput: boolean): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(fixtures, script)], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (waitForOutput) await new Promise((r) => child.stdout?.once("data", r));
  else await new Promise((r) => setTimeout(r, 300));
  return child;
}

type Target = { url: string; headers?: Record<string, string> };

export async function runFrontEndBench(rounds = 5): Promise<FrontEndReport> {
  const dir = mkdtempSync(join(tmpdir(), "rg-bench-"));
  const children: ChildProcess[] = [];
  let runguard: BenchRunguard | undefined;
  try {
    runguard = await startBenchRunguard();
    const { frontEnd: front, publicUrl, privateUrl, token, pem } = runguard;
    const backendPort = await findFreePort();
    children.push(await startNode("hello.mjs", { PORT: String(backendPort) }, false));
    const nginxPort = await findFreePort();
    children.push(await startNginx(join(dir, "nginx"), nginxPort, backendPort));
    const expressPort = await findFreePort();
    children.push(
      await startNode(
        "express-gateway.mjs",
        {
          PORT: String(expressPort),
          PUBLIC_KEY_PEM: pem,
          AUDIENCE: privateUrl,
          TARGET: `http://127.0.0.1:${backendPort}`,
        },
        true,
      ),
    );

    const barePort = await findFreePort();
    children.push(
      await startNode("bare-proxy.mjs", { PORT: String(barePort), TARGET: `http://127.0.0.1:${backendPort}` }, true),
    );
    const bearer = { authorization: `Bearer ${token}` };
    const targets: Record<Scenario, Target> = {
      "a-direct": { url: `http://127.0.0.1:${backendPort}/` },
      "b-nginx": { url: `http://127.0.0.1:${nginxPort}/` },
      "c-public": { url: `${front}/`, headers: { Host: new URL(publicUrl).host } },
      "d-private": { url: `${front}/`, headers: { Host: new URL(privateUrl).host, ...bearer } },
      "e-express": { url: `http://127.0.0.1:${expressPort}/`, headers: bearer },
      "f-bare-node": { url: `http://127.0.0.1:${barePort}/` },
    };
    const report = { high: {}, low: {} } as FrontEndReport;
    const scenarios = Object.entries(targets) as Array<[Scenario, Target]>;
    for (const [level, connections] of [
      ["high", 32],
      ["low", 2],
    ] as const) {
      const measure = (target: Target, seconds: number) =>
        wrk(target.url, { connections, seconds, ...(target.headers ? { headers: target.headers } : {}) });
      for (const [, target] of scenarios) await measure(target, 1);
      // Rounds of one second, each scenario once per round in a rotating order, pooled per scenario: noise that
      // comes and goes on a shared machine falls on every scenario alike instead of on whichever ran then.
      const runs = new Map<Scenario, WrkRun[]>(scenarios.map(([name]) => [name, []]));
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < scenarios.length; i++) {
          const [name, target] = scenarios[(round + i) % scenarios.length] as [Scenario, Target];
          runs.get(name)?.push(await measure(target, 1));
        }
      }
      for (const [name, list] of runs) {
        const result = summarize(poolRuns(list));
        if (result.non2xx > 0 || result.errors > 0)
          throw new Error(`${name}: ${result.non2xx} non-2xx responses, ${result.errors} socket errors`);
        report[level][name] = result;
      }
    }
    return report;
  } finally {
    await Promise.all([...children.map(stopChild), runguard?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const stubborn = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(stubborn);
}

export function formatFrontEndReport(report: FrontEndReport): string {
  const lines: string[] = [];
  for (const level of ["high", "low"] as const) {
    lines.push(`  ${level === "high" ? "32" : "2"} connections:`);
    for (const [name, r] of Object.entries(report[level])) {
      lines.push(
        `    ${name.padEnd(10)} ${r.requestsPerSecond.toFixed(0).padStart(7)} req/s   p50 ${(r.p50Ms * 1000).toFixed(0).padStart(5)} µs   p99 ${(r.p99Ms * 1000).toFixed(0).padStart(6)} µs`,
      );
    }
  }
  const h = report.high;
  const l = report.low;
  lines.push(
    `  ratios (32 connections): d/b = ${(h["d-private"].requestsPerSecond / h["b-nginx"].requestsPerSecond).toFixed(2)} (target ≥ 0.30), d/e = ${(h["d-private"].requestsPerSecond / h["e-express"].requestsPerSecond).toFixed(2)} (target ≥ 8), d/a = ${(h["d-private"].requestsPerSecond / h["a-direct"].requestsPerSecond).toFixed(2)}, c/a = ${(h["c-public"].requestsPerSecond / h["a-direct"].requestsPerSecond).toFixed(2)}`,
  );
  lines.push(
    `  reference: a bare Node proxy (f, no checks, no logs) at 2 connections adds p50 +${((l["f-bare-node"].p50Ms - l["a-direct"].p50Ms) * 1000).toFixed(0)} µs, p99 +${((l["f-bare-node"].p99Ms - l["a-direct"].p99Ms) * 1000).toFixed(0)} µs; (d)/(f) at 32 connections = ${(h["d-private"].requestsPerSecond / h["f-bare-node"].requestsPerSecond).toFixed(2)}`,
  );
  lines.push(
    `  added latency at 2 connections, d over a: p50 +${((l["d-private"].p50Ms - l["a-direct"].p50Ms) * 1000).toFixed(0)} µs (target ≤ 100), p99 +${((l["d-private"].p99Ms - l["a-direct"].p99Ms) * 1000).toFixed(0)} µs (target ≤ 1000)`,
  );
  return lines.join("\n");
}
