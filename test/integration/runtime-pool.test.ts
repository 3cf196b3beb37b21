// Autoscaling with real processes: cold start, concurrency, max instances, min instances, scale to zero,
// crash replacement, start failures, stop grace.
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createInstancePool, type InstancePool, type Lease } from "../../src/runtime/instance-pool.js";
import { findFreePort, startProcessInstance } from "../../src/runtime/process-instance.js";
import { InstanceStartError } from "../../src/runtime/instance-errors.js";

const apps = fileURLToPath(new URL("../../../test/fixtures/apps/", import.meta.url));

function pool(options: {
  concurrency?: number;
  min?: number;
  max?: number;
  idleMs?: number;
  script?: string;
  started?: number[];
}): InstancePool {
  const created = createInstancePool({
    revision: "svc-00001-abc",
    concurrency: options.concurrency ?? 80,
    minInstances: options.min ?? 0,
    maxInstances: options.max ?? 10,
    idleTimeoutMs: options.idleMs ?? 60_000,
    startInstance: async (id) => {
      const port = await findFreePort();
      const instance = await startProcessInstance(
        {
          id,
          command: [process.execPath, options.script ?? "echo.mjs"],
          cwd: apps,
          env: { PATH: process.env["PATH"] ?? "", PORT: String(port) },
          port,
          startupTimeoutMs: 10_000,
        },
        { onLog: () => undefined, onExit: () => undefined },
      );
      options.started?.push(instance.pid);
      return instance;
    },
  });
  opened.push(created);
  return created;
}

/** Every pool a test opened, closed after it whatever happened. */
const opened: InstancePool[] = [];

async function request(lease: Lease, path = "/"): Promise<{ pid: number; inFlight: number }> {
  try {
    const response = await fetch(`http://${lease.host}:${lease.port}${path}`);
    return (await response.json()) as { pid: number; inFlight: number };
  } finally {
    lease.release();
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Three (or n) requests in flight at once: every lease is held before any request is sent. */
async function inFlightTogether(p: InstancePool, n: number, path: string) {
  const leases = await Promise.all(Array.from({ length: n }, () => p.acquire()));
  return Promise.all(leases.map((lease) => request(lease, path)));
}

describe("instance pool", () => {
  // A failed assertion must not leave instances running (the file would hang until its timeout).
  afterEach(async () => void (await Promise.all(opened.splice(0).map((p) => p.close()))));

  it("holds the first request through the cold start", async () => {
    const p = pool({});
    assert.deepEqual(p.stats(), { ready: 0, starting: 0, inFlight: 0, waiting: 0 });
    const reply = await request(await p.acquire());
    assert.ok(reply.pid > 0);
    assert.equal(p.stats().ready, 1);
    await p.close();
  });

  it("concurrency 1: three parallel requests need three instances", async () => {
    const p = pool({ concurrency: 1, max: 3 });
    const replies = await inFlightTogether(p, 3, "/?sleep=200");
    assert.equal(new Set(replies.map((r) => r.pid)).size, 3);
    assert.ok(replies.every((r) => r.inFlight === 1));
    await p.close();
  });

  it("max instances 1 and concurrency 1: requests wait their turn", async () => {
    const p = pool({ concurrency: 1, max: 1 });
    const started = Date.now();
    const replies = await Promise.all([1, 2, 3].map(async () => request(await p.acquire(), "/?sleep=150")));
    assert.equal(new Set(replies.map((r) => r.pid)).size, 1);
    assert.ok(Date.now() - started >= 450, "served one after another");
    await p.close();
  });

  it("min instances start at once and survive idleness; extra instances scale to zero", async () => {
    const started: number[] = [];
    const p = pool({ min: 1, idleMs: 200, concurrency: 1, max: 2, started });
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(started.length, 1, "one warm instance before any request");
    await inFlightTogether(p, 2, "/?sleep=100");
    assert.equal(started.length, 2);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(p.stats().ready, 1, "back to the minimum");
    assert.equal(started.filter(alive).length, 1, "the idle process is really gone");
    await p.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(started.filter(alive).length, 0, "close leaves no process behind");
  });

  it("a crashed instance is replaced", async () => {
    const started: number[] = [];
    const p = pool({ started });
    const first = await request(await p.acquire());
    const crash = await p.acquire();
    await fetch(`http://${crash.host}:${crash.port}/crash`).catch(() => undefined);
    crash.markBroken();
    crash.release();
    await new Promise((r) => setTimeout(r, 100));
    const second = await request(await p.acquire());
    assert.notEqual(first.pid, second.pid);
    await p.close();
  });

  it("a failing start rejects waiters with the app's stderr, and fails fast right after", async () => {
    const p = pool({ script: "fail-start.mjs" });
    const error = await p.acquire().catch((e: unknown) => e);
    assert.ok(error instanceof InstanceStartError);
    assert.equal(error.reason, "exited");
    assert.deepEqual(error.stderrTail, ["FATAL: cannot connect to the database"]);
    const started = Date.now();
    await assert.rejects(p.acquire());
    assert.ok(Date.now() - started < 100, "no new start for a second");
    await p.close();
  });

  it("stop() kills a process that ignores SIGTERM once the grace period is over", async () => {
    const port = await findFreePort();
    const stubborn = `require("http").createServer((q,s)=>s.end()).listen(${port},"127.0.0.1");process.on("SIGTERM",()=>{});`;
    const instance = await startProcessInstance(
      {
        id: "x",
        command: [process.execPath, "-e", stubborn],
        cwd: apps,
        env: { PATH: process.env["PATH"] ?? "" },
        port,
        startupTimeoutMs: 5000,
      },
      { onLog: () => undefined, onExit: () => undefined },
    );
    const started = Date.now();
    await instance.stop(300);
    assert.ok(Date.now() - started >= 300);
    assert.equal(alive(instance.pid), false);
  });
});
