// `runguard up` fails fast: a port already taken makes it exit non-zero at once, naming the port and the option
// that changes it, for every listener, leaving nothing bound; a second `up` on one data directory is refused,
// and the lock of a process that died is taken over. The real bin, as a subprocess.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { spawnUp, whenUp } from "../helpers/up-process.js";

const dirs: string[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "rg-up-"));
  dirs.push(dir);
  return dir;
};
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A loopback port held by this test for as long as the returned server listens. */
function holdPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({ server, port: typeof address === "object" && address ? address.port : 0 });
    });
  });
}

/** Whether something accepts connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(true));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(false)));
  });
}

const LISTENERS = [
  { option: "--port", name: "control plane" },
  { option: "--front-end-port", name: "front end" },
  { option: "--lb-port", name: "load balancer HTTP" },
  { option: "--lb-https-port", name: "load balancer HTTPS" },
];

describe("runguard up fails fast", () => {
  for (const listener of LISTENERS) {
    it(`a taken ${listener.name} port exits non-zero at once, naming the port and ${listener.option}`, async () => {
      const taken = await holdPort();
      // Fixed free ports for the others, so the test can check afterwards that nothing is left bound.
      const others = await Promise.all(
        LISTENERS.filter((l) => l !== listener).map(async (l) => ({ ...l, ...(await holdPort()) })),
      );
      await Promise.all(others.map((o) => new Promise((resolve) => o.server.close(resolve))));
      try {
        const startedAt = Date.now();
        const up = spawnUp(dataDir(), [
          ...others.flatMap((o) => [o.option, String(o.port)]),
          listener.option,
          String(taken.port),
        ]);
        const code = await up.exited;
        const elapsedMs = Date.now() - startedAt;
        assert.equal(code, 1, up.stdout() + up.stderr());
        assert.equal(
          up.stderr().trim(),
          `ERROR: port ${taken.port} (${listener.name}) is in use: choose another with ${listener.option}`,
        );
        assert.doesNotMatch(up.stdout(), /runguard is up/);
        assert.ok(elapsedMs < 30_000, `exited after ${elapsedMs} ms`);
        for (const other of others) assert.equal(await accepts(other.port), false, `${other.name} port released`);
      } finally {
        taken.server.close();
      }
    });
  }

  it("a second `up` on the same data directory is refused; a stale lock is taken over", async () => {
    const dir = dataDir();
    const first = spawnUp(dir);
    await whenUp(first);
    try {
      assert.equal(readFileSync(join(dir, "runguard.lock"), "utf8"), String(first.child.pid));
      const second = spawnUp(dir);
      assert.equal(await second.exited, 1);
      assert.equal(
        second.stderr().trim(),
        `ERROR: runguard is already running on data directory ${dir} (pid ${first.child.pid}): stop it first, or use another --data-dir.`,
      );
    } finally {
      assert.equal(await first.stop(), 0);
    }
    // A lock left by a process that is gone: the pid of a child that has exited.
    const gone = spawnSync(process.execPath, ["-e", "process.pid"]).pid;
    writeFileSync(join(dir, "runguard.lock"), String(gone));
    const third = spawnUp(dir);
    await whenUp(third);
    assert.equal(readFileSync(join(dir, "runguard.lock"), "utf8"), String(third.child.pid));
    assert.equal(await third.stop(), 0);
    assert.throws(() => readFileSync(join(dir, "runguard.lock")), /ENOENT/, "a clean stop removes the lock");
  });
});
