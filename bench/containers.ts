// Container benchmark: an image of the hello backend (bench/fixtures/hello.mjs on this machine's node, built
// with podman and no network) run by runguard as a container. Four figures:
// 1. deploy to first 200: the Run Admin API calls `gcloud run deploy --allow-unauthenticated` makes, then the
//    first request through the front end, which waits for the cold start; median over fresh services;
// 2. scale-from-zero to first 200: one request once the revision's pool has no instance left (short idle
//    timeout); median over rounds;
// 3. the same image started with runc alone (bench/fixtures/runc-baseline.sh), timed from `runc run -d` until
//    the app accepts TCP connections: scale-from-zero minus this is runguard's own overhead;
// 4. front-end throughput (wrk) to a public container service beside a public process service (the catalogue
//    entry running the same hello.mjs) in the same `runguard up`.
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { openLocal } from "../src/cli/local.js";
import { revisionResource } from "../src/run/services.js";
import type { StoredService } from "../src/run/types.js";
import { deploy } from "../test/helpers/deploy.js";
import { invokeUrl } from "../test/helpers/invoke.js";
import { startTestRunguard, PROJECT, type TestRunguard } from "../test/helpers/runguard-instance.js";
import { buildAppImage, podmanAvailable } from "../test/helpers/test-image.js";
import { deployHello, fixtures, startBenchRunguard, type BenchRunguard } from "./bench-services.js";
import { poolRuns, summarize, wrk, type WrkResult, type WrkRun } from "./wrk.js";

const run = promisify(execFile);
export const CONTAINER_IMAGE = "localhost/runguard-bench/hello:1";
const baselineScript = fileURLToPath(new URL("../../bench/fixtures/runc-baseline.sh", import.meta.url));
/** Idle time after which the in-process runguard stops an instance (scale-from-zero rounds wait for it). */
const IDLE_TIMEOUT_MS = 500;
/** After the pool is empty: time for the stopped instance's teardown (unmounts, uid release) to finish. */
const SETTLE_MS = 500;

type Kind = "container" | "process";
export interface ContainerBenchReport {
  /** Medians over fresh services, ms. */
  deploy: { apiMs: number; firstRequestMs: number; services: number };
  scaleFromZeroMs: number[];
  runcBaselineMs: number[];
  throughput: Record<"high" | "low", Record<Kind, WrkResult>>;
}

/** Why the container section cannot run here, or undefined when it can. */
export function containerBenchSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (containers run only when runguard runs as root)";
  if (!podmanAvailable()) return "podman is not installed";
  for (const tool of ["runc", "fuse-overlayfs", "unshare"])
    if (spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status !== 0)
      return `${tool} is not installed`;
  return undefined;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One GET through the front end; its time in ms. */
async function timedGet(frontEnd: string, url: string): Promise<number> {
  const started = performance.now();
  const answer = await invokeUrl(frontEnd, url);
  const ms = performance.now() - started;
  if (answer.status !== 200) throw new Error(`${url}: ${answer.status} ${answer.body}`);
  return ms;
}

async function latestRevisionOf(rg: TestRunguard, name: string): Promise<string> {
  const service = await rg.platform.store.get<StoredService>(
    "service",
    `projects/${PROJECT}/locations/us-central1/services/${name}`,
  );
  if (!service?.latestReadyRevision) throw new Error(`${name} has no ready revision`);
  return revisionResource(service, service.latestReadyRevision);
}

/** Waits until the revision's pool has no instance, running or starting, then for its teardown to finish. */
async function waitForZero(rg: TestRunguard, revision: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const stats = await rg.instances.stats(revision);
    if (!stats || stats.ready + stats.starting === 0) break;
    if (Date.now() > deadline) throw new Error(`${revision} still has instances: ${JSON.stringify(stats)}`);
    await sleep(20);
  }
  await sleep(SETTLE_MS);
}

/**
 * 1, 2 and 3: deploy to first 200 over fresh services; then rounds of scale-from-zero to first 200, each next to
 * one start of the runc baseline, so that noise on a shared machine falls on both alike.
 */
export async function measureColdStarts(
  starts: number,
): Promise<Pick<ContainerBenchReport, "deploy" | "scaleFromZeroMs" | "runcBaselineMs">> {
  const rg = await startTestRunguard({ idleTimeoutMs: IDLE_TIMEOUT_MS });
  const baseline = await prepareRuncBaseline();
  try {
    if (rg.endpoints.containers !== "available")
      throw new Error(`runguard cannot run containers here: ${rg.endpoints.containers}`);
    const front = rg.endpoints.frontEnd;
    const apiMs: number[] = [];
    const firstRequestMs: number[] = [];
    // One service first, not counted: the first container start of a runguard warms its code paths.
    for (let i = 0; i <= starts; i++) {
      const name = `cold-${i}`;
      const started = performance.now();
      const [url] = await deploy(rg, name, { image: CONTAINER_IMAGE, public: true });
      const deployed = performance.now() - started;
      if (!url) throw new Error(`${name} has no URL`);
      const first = await timedGet(front, url);
      if (i > 0) {
        apiMs.push(deployed);
        firstRequestMs.push(first);
      }
      await waitForZero(rg, await latestRevisionOf(rg, name));
    }
    const [url] = await deploy(rg, "from-zero", { image: CONTAINER_IMAGE, public: true });
    if (!url) throw new Error("from-zero has no URL");
    const revision = await latestRevisionOf(rg, "from-zero");
    await timedGet(front, url);
    await baseline.startOnce();
    const scaleFromZeroMs: number[] = [];
    const runcBaselineMs: number[] = [];
    for (let round = 0; round < starts; round++) {
      runcBaselineMs.push(await baseline.startOnce());
      await waitForZero(rg, revision);
      scaleFromZeroMs.push(await timedGet(front, url));
    }
    return {
      deploy: { apiMs: median(apiMs), firstRequestMs: median(firstRequestMs), services: starts },
      scaleFromZeroMs,
      runcBaselineMs,
    };
  } finally {
    baseline.remove();
    await rg.stop();
  }
}

interface PodmanImage {
  Config?: { Env?: string[] | null };
  GraphDriver?: { Name?: string; Data?: Record<string, string> };
}

/** 3: the same image with runc alone, in fresh namespaces: a bundle made once, then started once per call. */
interface RuncBaseline {
  /** ms from `runc run -d` until the app accepts TCP connections. */
  startOnce(): Promise<number>;
  remove(): void;
}

async function prepareRuncBaseline(): Promise<RuncBaseline> {
  const [image] = JSON.parse(
    (await run("podman", ["image", "inspect", "--format", "json", CONTAINER_IMAGE])).stdout,
  ) as PodmanImage[];
  const data = image?.GraphDriver?.Data ?? {};
  if (image?.GraphDriver?.Name !== "overlay" || !data["UpperDir"]) throw new Error("the image is not on overlay");
  const layers = [data["UpperDir"], ...(data["LowerDir"] ? data["LowerDir"].split(":") : [])].join(":");
  const bundle = mkdtempSync(join(tmpdir(), "rg-bench-runc-"));
  // runc's own default spec, with the app's command and PORT, joining the network namespace runc runs in.
  await run("runc", ["spec", "--bundle", bundle]);
  const spec = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")) as {
    process: { terminal: boolean; args: string[]; env: string[] };
    root: { path: string; readonly: boolean };
    linux: { namespaces: Array<{ type: string; path?: string }> };
  };
  spec.process.terminal = false;
  spec.process.args = ["node", "/app/hello.mjs"];
  spec.process.env = [...(image.Config?.Env ?? []), "PORT=8080"];
  spec.root = { path: "rootfs", readonly: false };
  spec.linux.namespaces = spec.linux.namespaces.map((namespace) =>
    namespace.type === "network" ? { type: "network", path: "/proc/self/ns/net" } : namespace,
  );
  writeFileSync(join(bundle, "config.json"), JSON.stringify(spec, null, 2));
  const unshare = ["--net", "--mount", "--pid", "--fork", "--mount-proc"];
  return {
    async startOnce() {
      const { stdout } = await run("unshare", [...unshare, "bash", baselineScript, bundle, layers, "8080"]);
      const ms = Number(stdout.trim().split("\n").at(-1));
      if (!Number.isFinite(ms)) throw new Error(`runc baseline printed: ${stdout}`);
      return ms;
    },
    remove: () => rmSync(bundle, { recursive: true, force: true }),
  };
}

/** 4: wrk at 32 and 2 connections, container and process services in rotating rounds of one second. */
async function measureThroughput(rounds: number): Promise<ContainerBenchReport["throughput"]> {
  let runguard: BenchRunguard | undefined;
  try {
    runguard = await startBenchRunguard();
    const session = await openLocal(runguard.dataDir);
    let containerUrl: string;
    try {
      containerUrl = await deployHello(session, "bench-container", true, CONTAINER_IMAGE);
    } finally {
      await session.close();
    }
    const front = `${runguard.frontEnd}/`;
    const targets: Array<[Kind, string]> = [
      ["container", new URL(containerUrl).host],
      ["process", new URL(runguard.publicUrl).host],
    ];
    const report = { high: {}, low: {} } as ContainerBenchReport["throughput"];
    for (const [level, connections] of [
      ["high", 32],
      ["low", 2],
    ] as const) {
      const measure = (host: string) => wrk(front, { connections, seconds: 1, headers: { Host: host } });
      for (const [, host] of targets) await measure(host);
      const runs = new Map<Kind, WrkRun[]>(targets.map(([kind]) => [kind, []]));
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < targets.length; i++) {
          const [kind, host] = targets[(round + i) % targets.length] as [Kind, string];
          runs.get(kind)?.push(await measure(host));
        }
      }
      for (const [kind, list] of runs) {
        const result = summarize(poolRuns(list));
        if (result.non2xx > 0 || result.errors > 0)
          throw new Error(`${kind}: ${result.non2xx} non-2xx responses, ${result.errors} socket errors`);
        report[level][kind] = result;
      }
    }
    return report;
  } finally {
    await runguard?.stop();
  }
}

export async function runContainerBench(options: { starts: number; rounds: number }): Promise<ContainerBenchReport> {
  buildAppImage(CONTAINER_IMAGE, {
    files: { "/app/hello.mjs": join(fixtures, "hello.mjs") },
    instructions: ['CMD ["node", "/app/hello.mjs"]'],
  });
  const cold = await measureColdStarts(options.starts);
  const throughput = await measureThroughput(options.rounds);
  return { ...cold, throughput };
}

const ms = (value: number) => `${value.toFixed(0)} ms`;
const list = (values: number[]) => values.map((v) => v.toFixed(0)).join(", ");

export function formatContainerReport(report: ContainerBenchReport): string {
  const fromZero = median(report.scaleFromZeroMs);
  const baseline = median(report.runcBaselineMs);
  const overhead = fromZero - baseline;
  const lines = [
    `  deploy to first 200 (median of ${report.deploy.services} fresh services): ${ms(report.deploy.apiMs + report.deploy.firstRequestMs)} = deploy API calls ${ms(report.deploy.apiMs)} + first request ${ms(report.deploy.firstRequestMs)}`,
    `  scale-from-zero to first 200: median ${ms(fromZero)} (${list(report.scaleFromZeroMs)})`,
    `  runc run alone, to the app accepting TCP: median ${ms(baseline)} (${list(report.runcBaselineMs)})`,
    `  runguard's overhead over runc run: ${ms(overhead)} (target ≤ 100 ms: ${overhead <= 100 ? "met" : "missed"})`,
  ];
  for (const level of ["high", "low"] as const) {
    lines.push(`  front end, ${level === "high" ? "32" : "2"} connections:`);
    for (const [kind, r] of Object.entries(report.throughput[level])) {
      lines.push(
        `    ${kind.padEnd(10)} ${r.requestsPerSecond.toFixed(0).padStart(7)} req/s   p50 ${(r.p50Ms * 1000).toFixed(0).padStart(5)} µs   p99 ${(r.p99Ms * 1000).toFixed(0).padStart(6)} µs`,
      );
    }
  }
  return lines.join("\n");
}
