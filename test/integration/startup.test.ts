// Fast start: the bin's #! line carries runguard's Node settings, so `runguard up` serves in the process the
// user started (no second Node start); a build with nothing changed compiles nothing (`npm start` builds first).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { NODE_FLAGS } from "../../src/app/node-flags.js";
import { bin } from "../helpers/up-process.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const run = promisify(execFile);
const FREE_PORTS = ["--port", "0", "--front-end-port", "0", "--lb-port", "0", "--lb-https-port", "0"];

describe("fast start", () => {
  it("the bin's #! line gives Node exactly NODE_FLAGS", () => {
    const shebang = readFileSync(bin, "utf8").split("\n")[0];
    assert.equal(shebang, `#!/usr/bin/env -S node ${NODE_FLAGS.join(" ")}`);
  });

  it("runguard up, started through the bin, serves in that process: no relaunch", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "rg-startup-"));
    const up = spawn(bin, ["--data-dir", dataDir, "up", ...FREE_PORTS], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    up.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    up.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => up.on("close", (code) => resolve(code)));
    try {
      const started = Date.now();
      while (!output.includes("point gcloud:")) {
        assert.equal(up.exitCode, null, output);
        assert.ok(Date.now() - started < 60_000, output);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const commandLine = readFileSync(`/proc/${up.pid}/cmdline`, "utf8").split("\0");
      for (const flag of NODE_FLAGS) assert.ok(commandLine.includes(flag), `${flag} in ${commandLine.join(" ")}`);
      const children = (() => {
        try {
          return execFileSync("pgrep", ["-P", String(up.pid), "-f", "runguard"], { encoding: "utf8" }).trim();
        } catch {
          return "";
        }
      })();
      assert.equal(children, "", "no second runguard process");
    } finally {
      up.kill("SIGINT");
      assert.equal(await exited, 0, output);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("a build with nothing changed builds nothing (tsc -b's up-to-date check)", async () => {
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    const { stdout } = await run(
      process.execPath,
      [tsc, "-b", "--dry", "--verbose", "tsconfig.json", "tsconfig.api.json"],
      { cwd: root, timeout: 120_000 },
    );
    assert.match(stdout, /Project 'tsconfig\.json' is up to date/);
    assert.match(stdout, /Project 'tsconfig\.api\.json' is up to date/);
    const scripts = (
      JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }
    ).scripts;
    assert.equal(scripts["build"], "tsc -b tsconfig.json tsconfig.api.json");
    assert.match(scripts["start"] ?? "", /^npm run build && /);
  });
});
