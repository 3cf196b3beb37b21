// The spare launcher: claimed when its command line matches, replaced when it does not, gone at close; and the
// real launcher, run in runguard's own namespaces, prepares nothing there while it waits (no address on the
// host's loopback, no filesystem mounted in the host's mount namespace).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createWarmLauncher } from "../../src/runtime/warm-launcher.js";

const fixture = fileURLToPath(new URL("../../../test/fixtures/apps/launcher-echo.mjs", import.meta.url));
const launcher = fileURLToPath(new URL("../../src/runtime/netns-launcher.js", import.meta.url));

interface Echo {
  startedAt: number;
  pid: number;
  config: unknown;
}

function configure(child: ChildProcess, config: object): Promise<Echo> {
  return new Promise((resolve, reject) => {
    child.once("message", (message) => resolve(message as Echo));
    child.once("exit", (code) => reject(new Error(`exited with ${code}`)));
    child.send({ configure: config });
  });
}

const gone = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once("exit", () => resolve()));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("the spare launcher", () => {
  const command = [process.execPath, fixture];
  const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin" };

  it("hands out the spare started by the previous take, already running before it was asked for", async () => {
    const launchers = createWarmLauncher();
    try {
      const first = launchers.take(command, env);
      assert.deepEqual((await configure(first, { n: 1 })).config, { n: 1 });
      await new Promise((r) => setTimeout(r, 300)); // the spare started beside the first is up by now
      const asked = Date.now();
      const second = launchers.take(command, env);
      const echo = await configure(second, { n: 2 });
      assert.deepEqual(echo.config, { n: 2 }, "the spare gets its configuration only when claimed");
      assert.ok(echo.startedAt < asked, "the claimed launcher was started ahead of need");
      first.kill("SIGKILL");
      second.kill("SIGKILL");
    } finally {
      await launchers.close();
    }
  });

  it("replaces a spare whose command line differs, and stops the spare at close", async () => {
    const launchers = createWarmLauncher();
    const first = launchers.take(command, env);
    await configure(first, {});
    await new Promise((r) => setTimeout(r, 300));
    const asked = Date.now();
    const other = launchers.take(command, { ...env, OTHER: "1" });
    const echo = await configure(other, {});
    assert.ok(echo.startedAt >= asked, "a launcher for another command line is started on demand");
    await new Promise((r) => setTimeout(r, 300));
    const spare = launchers.take(command, { ...env, OTHER: "1" });
    const spareEcho = await configure(spare, {});
    await launchers.close();
    for (const child of [first, other, spare]) child.kill("SIGKILL");
    await Promise.all([first, other, spare].map(gone));
    // The spare started by the last take never got a configuration: close ended it.
    await new Promise((r) => setTimeout(r, 100));
    const left = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes(fixture) && !line.includes(String(spareEcho.pid)));
    assert.deepEqual(left, [], "no launcher left running after close");
  });
});

describe("the real launcher, waiting in runguard's own namespaces", () => {
  it("prepares nothing on the host: no loopback address, no mount, and exits when runguard's channel closes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rg-spare-"));
    const address = "198.18.255.77";
    try {
      const child = spawn(process.execPath, [launcher], {
        env: {
          PATH: process.env["PATH"] ?? "/usr/bin:/bin",
          RUNGUARD_HOST_NETNS: readlinkSync("/proc/self/ns/net"),
          RUNGUARD_HOST_MNTNS: readlinkSync("/proc/self/ns/mnt"),
          RUNGUARD_SPARE_NETWORK: JSON.stringify({ addresses: [address], redirects: [{ host: address, port: 80 }] }),
          RUNGUARD_CONTAINER_DIR: dir,
          RUNGUARD_CONTAINER_TMPFS: String(64 * 1024 ** 2),
        },
        stdio: ["ignore", "ignore", "ignore", "ipc"],
      });
      await new Promise((r) => setTimeout(r, 1500)); // Node's start and any preparation would be done by now
      assert.equal(child.exitCode, null, "the launcher waits for its configuration");
      assert.doesNotMatch(
        execFileSync("ip", ["-o", "addr", "show", "dev", "lo"], { encoding: "utf8" }),
        /198\.18\.255\.77/,
      );
      assert.ok(
        !readFileSync("/proc/self/mountinfo", "utf8").includes(` ${dir} `),
        "no filesystem mounted on the host",
      );
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.disconnect();
      assert.equal(await exited, 137, "an unclaimed launcher exits when runguard's channel closes");
      assert.ok(child.pid !== undefined && !isAlive(child.pid));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
