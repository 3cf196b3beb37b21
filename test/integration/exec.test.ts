// `runguard exec -- CMD…` through the real CLI: CMD's exit code (0, 3, a signal), the environment CMD sees, the
// real gcloud and `runguard token` inside it, signals passed on, and nothing left behind: no data directory, no
// instance, nothing CMD started in the background.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { runExec, spawnExec } from "../helpers/exec-process.js";
import { bin } from "../helpers/up-process.js";
import { start } from "../../src/api/index.js";

const node = process.execPath;
const PRINT_ENV = `console.log(JSON.stringify(process.env))`;
const apps = fileURLToPath(new URL("../../../examples/testing-apps/", import.meta.url));

/** Whether a process whose command line holds `marker` is running. */
function running(marker: string): boolean {
  try {
    return execFileSync("pgrep", ["-f", marker], { encoding: "utf8" }).trim() !== "";
  } catch {
    return false;
  }
}

describe("runguard exec", () => {
  it("exits 0 with CMD, which sees runguard's environment; the throwaway data directory is removed", async () => {
    const result = await runExec(["exec", "--", node, "-e", PRINT_ENV, "--", "--password=hunter2"]);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /hunter2/, "CMD's arguments stay out of runguard's own output");
    const env = JSON.parse(result.stdout) as Record<string, string>;
    assert.match(env["RUNGUARD_API_URL"] ?? "", /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(env["RUNGUARD_FRONT_END_URL"] ?? "", /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(env["RUNGUARD_PROJECT"], "my-gcp-project");
    assert.equal(env["HTTPS_PROXY"], env["RUNGUARD_API_URL"]);
    assert.equal(env["CLOUDSDK_CORE_PROJECT"], "my-gcp-project");
    const dataDir = env["RUNGUARD_DATA_DIR"] ?? "";
    assert.ok(dataDir.startsWith(tmpdir()), dataDir);
    assert.ok(env["CLOUDSDK_CONFIG"]?.startsWith(dataDir), "gcloud's configuration is the throwaway one");
    assert.equal(existsSync(dataDir), false, "the data directory is removed");
    assert.match(result.stderr, /runguard exec: runguard is up/);
  });

  it("exits with CMD's exit code, and takes one shell line as Firebase's emulators:exec does", async () => {
    assert.equal((await runExec(["exec", "--", node, "-e", "process.exit(3)"])).code, 3);
    const shell = await runExec(["exec", "echo $RUNGUARD_PROJECT; exit 7"]);
    assert.equal(shell.code, 7);
    assert.equal(shell.stdout.trim(), "my-gcp-project");
    const missing = await runExec(["exec", "--", "/nonexistent/command"]);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /cannot run \/nonexistent\/command: ENOENT/);
  });

  it("the real gcloud and runguard's own CLI work inside CMD", async () => {
    const script = [
      "set -e",
      "gcloud iam service-accounts create exec-sa --quiet",
      "gcloud iam service-accounts list --format='value(email)'",
      `runguard() { ${node} ${fileURLToPath(new URL("../../../bin/runguard.js", import.meta.url))} "$@"; }`,
      "runguard token --audience https://example.run.app | cut -c1-3",
    ].join("\n");
    const result = await runExec(["exec", "--", "bash", "-c", script]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /exec-sa@my-gcp-project\.iam\.gserviceaccount\.com/);
    assert.match(result.stdout, /^eyJ$/m, "an ID token (a JWT)");
  });

  it("passes SIGTERM on to CMD and exits with CMD's answer to it", async () => {
    const graceful = spawnExec([
      "exec",
      "--",
      node,
      "-e",
      "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(0); }); console.log('ready'); setInterval(() => {}, 1000);",
    ]);
    await graceful.printed("ready");
    graceful.child.kill("SIGTERM");
    assert.deepEqual(await graceful.exited, { code: 0, signal: null });
    assert.match(graceful.stdout(), /got SIGTERM/);
  });

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`exits ${code} when ${signal} ends CMD, leaving nothing running`, async () => {
      const marker = `rg-exec-${randomUUID()}`;
      // The marker travels in the environment: a command line holding it would match itself.
      const exec = spawnExec(
        [
          "exec",
          "--",
          "bash",
          "-c",
          `${node} -e "setInterval(() => {}, 1000)" "$MARKER" & ${node} -e "console.log(process.env.RUNGUARD_DATA_DIR); setInterval(() => {}, 1000)"`,
        ],
        { env: { MARKER: marker } },
      );
      await exec.printed("\n");
      assert.equal(running(marker), true, "CMD's background process runs");
      const dataDir = exec.stdout().trim();
      assert.ok(existsSync(dataDir));
      exec.child.kill(signal);
      assert.deepEqual(await exec.exited, { code, signal: null });
      assert.equal(existsSync(dataDir), false);
      assert.equal(running(marker), false, "what CMD started is gone");
    });
  }

  it("keeps a --data-dir, names its services in RUNGUARD_URL_*, and stops the instances CMD started", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "rg-exec-kept-"));
    const marker = `rg-exec-instance-${randomUUID()}`;
    try {
      const runguard = await start({ dataDir });
      await runguard.deploy({
        service: "orders-api",
        command: [node, "callee.mjs", marker],
        dir: apps,
        allowUnauthenticated: true,
      });
      await runguard.stop();
      const script = `curl -s "$RUNGUARD_LOCAL_URL_ORDERS_API/hello"; echo; echo "$RUNGUARD_URL_ORDERS_API"; pgrep -f "$MARKER" >/dev/null && echo instance-running`;
      const result = await runExec(["--data-dir", dataDir, "exec", "--", "bash", "-c", script], {
        env: { MARKER: marker },
      });
      assert.equal(result.code, 0, result.stderr);
      const [answer, url, instance] = result.stdout.trim().split("\n");
      assert.deepEqual(JSON.parse(answer ?? "{}"), { service: "orders-api", path: "/hello" });
      assert.match(url ?? "", /^https:\/\/orders-api-\d+\.us-central1\.run\.app$/);
      assert.equal(instance, "instance-running");
      assert.equal(running(marker), false, "the instance is stopped with runguard");
      assert.ok(existsSync(join(dataDir, "runguard.db")), "a --data-dir is kept");
      assert.match(readFileSync(join(dataDir, "endpoints.json"), "utf8"), /"api"/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("applies ./runguard.yaml from its working directory, with that file's project, before CMD runs", async () => {
    const project = mkdtempSync(join(tmpdir(), "rg-exec-yaml-"));
    try {
      writeFileSync(join(project, "runguard.yaml"), SHOP_STATE);
      const script = `echo "$RUNGUARD_PROJECT $RUNGUARD_URL_STOREFRONT"; curl -s -o /dev/null -w '%{http_code}' "$RUNGUARD_LOCAL_URL_STOREFRONT/"`;
      const result = await runExec(["exec", "--", "bash", "-c", script], { cwd: project });
      assert.equal(result.code, 0, result.stderr);
      const [line, status] = result.stdout.trim().split("\n");
      assert.match(line ?? "", /^shop-dev https:\/\/storefront-\d+\.us-central1\.run\.app$/);
      assert.equal(status, "200", "the file's allUsers binding is in force");
      assert.match(result.stderr, /runguard\.yaml applied/);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it("on a terminal (a pty), CMD reads from it through /dev/tty and its exit code is exec's", async () => {
    // script(1) gives exec a pty as its controlling terminal; what the test writes is typed at it. CMD reads
    // /dev/tty as password prompts do (ssh, sudo, gcloud auth login): a CMD in a session of its own has no
    // controlling terminal, and /dev/tty cannot be opened there.
    const shell = `${node} ${JSON.stringify(bin)} exec -- sh -c 'read line < /dev/tty; echo "got:$line"; exit 5'`;
    const child = spawn("script", ["-qfec", shell, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const deadline = setTimeout(() => child.kill("SIGKILL"), 60_000);
    // Typed once runguard is up and CMD runs, as a user would.
    while (!out.includes("runguard exec: runguard is up") && child.exitCode === null)
      await new Promise((resolve) => setTimeout(resolve, 50));
    child.stdin.write("hello-from-the-terminal\n");
    const code = await exited;
    clearTimeout(deadline);
    assert.match(out, /got:hello-from-the-terminal/);
    assert.equal(code, 5, out);
  });

  it("on a terminal, Ctrl-C reaches CMD from the terminal once; exec ends with it (130)", async () => {
    const marker = `rg-exec-ctrl-c-${randomUUID()}`;
    const shell = `${node} ${JSON.stringify(bin)} exec -- ${node} -e "console.log('ready-' + 'cmd'); setInterval(() => {}, 1000)" ${marker}`;
    const child = spawn("script", ["-qfec", shell, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const deadline = setTimeout(() => child.kill("SIGKILL"), 60_000);
    // script's own command line names the marker too: wait for CMD's word instead.
    while (!out.includes("ready-cmd") && child.exitCode === null)
      await new Promise((resolve) => setTimeout(resolve, 50));
    child.stdin.write("\x03");
    const code = await exited;
    clearTimeout(deadline);
    assert.equal(code, 130, out);
    assert.equal(running(marker), false);
  });

  it("refuses a malformed --config with the file and field, without a stack trace, before CMD runs", async () => {
    const project = mkdtempSync(join(tmpdir(), "rg-exec-bad-"));
    try {
      writeFileSync(join(project, "broken.yaml"), "services:\n  - service: { kind: Service, spec: 3 }\nbogus: [\n");
      const before = new Set(readdirSync(tmpdir()));
      const result = await runExec(["exec", "--config", "broken.yaml", "--", "bash", "-c", "echo ran"], {
        cwd: project,
      });
      assert.equal(result.code, 1);
      assert.equal(result.stdout, "", "CMD did not run");
      assert.match(result.stderr, /^ERROR: .*broken\.yaml/m);
      assert.doesNotMatch(result.stderr, /^\s+at /m);
      const left = readdirSync(tmpdir()).filter((name) => !before.has(name) && name.startsWith("runguard-data-"));
      assert.deepEqual(left, []);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});

const SHOP_STATE = `project: shop-dev
services:
  - service:
      apiVersion: serving.knative.dev/v1
      kind: Service
      metadata: { name: storefront }
      spec:
        template:
          spec:
            containers: [{ image: us-docker.pkg.dev/cloudrun/container/hello }]
    iamPolicy:
      bindings: [{ role: roles/run.invoker, members: [allUsers] }]
`;
