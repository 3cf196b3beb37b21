// `runguard up`'s live terminal and `runguard logs`, as a user runs them: real CLI processes, the real gcloud for
// deploys and policy changes, real requests through the front end.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gcloud } from "../helpers/gcloud.js";
import { invokeUrl } from "../helpers/invoke.js";
import { FREE_PORTS, bin, spawnUp, whenUp, type UpProcess } from "../helpers/up-process.js";
import { serviceIapClientId } from "../../src/iap/direct-iap.js";

const run = promisify(execFile);
const apps = fileURLToPath(new URL("../../../test/fixtures/apps/", import.meta.url));
const LOGGER = "gcr.io/runguard-tests/terminal-logger";
const NO_COLOUR_SETTINGS = { NO_COLOR: "", FORCE_COLOR: "" };
// eslint-disable-next-line no-control-regex -- an ANSI escape starts with ESC
const ANSI = /\x1b\[/;
/** A change line whose time is dimmed (ESC[2m … ESC[0m): the terminal's colours are on. */
const DIMMED_CHANGE =
  // eslint-disable-next-line no-control-regex -- ANSI escapes start with ESC
  /\x1b\[2m\d\d:\d\d:\d\d\x1b\[0m \* IAM policy of projects\/my-gcp-project set: .*user:dana@example\.com/;

async function waitFor(text: () => string, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
  const started = Date.now();
  for (;;) {
    const found = pattern.exec(text());
    if (found) return found;
    if (Date.now() - started > timeoutMs) throw new Error(`no ${pattern} in:\n${text()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const frontEndOf = (dataDir: string) =>
  (JSON.parse(readFileSync(join(dataDir, "endpoints.json"), "utf8")) as { frontEnd: string }).frontEnd;

describe("runguard up's terminal and runguard logs", () => {
  let dataDir: string;
  let up: UpProcess;
  let frontEnd: string;
  let env: Record<string, string>;
  let ordersUrl: string;
  let internalUrl: string;
  const tokens: string[] = [];
  const cli = (...args: string[]) => run(process.execPath, [bin, "--data-dir", dataDir, ...args], { timeout: 60_000 });
  const token = async (...args: string[]) => {
    const minted = (await cli("token", ...args)).stdout.trim();
    tokens.push(minted);
    return minted;
  };
  const bearer = (value: string) => ({ authorization: `Bearer ${value}` });
  /** `gcloud [beta] run deploy NAME` of LOGGER (or `image`) in us-central1; the service's URL. */
  const deploy = async (name: string, flags: string[], { image = LOGGER, beta = false } = {}) => {
    const deployed = await gcloud(env, [
      ...(beta ? ["beta"] : []),
      "run",
      "deploy",
      name,
      `--image=${image}`,
      "--region=us-central1",
      ...flags,
    ]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const described = await gcloud(env, [
      "run",
      "services",
      "describe",
      name,
      "--region=us-central1",
      "--format=value(status.url)",
    ]);
    return described.stdout.trim();
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "rg-term-"));
    up = spawnUp(dataDir, [], { env: NO_COLOUR_SETTINGS });
    await whenUp(up);
    frontEnd = frontEndOf(dataDir);
    env = JSON.parse((await cli("env", "--format", "json")).stdout) as Record<string, string>;
    await cli("images", "add", LOGGER, "--dir", apps, "--", process.execPath, "logger.mjs");
    ordersUrl = await deploy("orders-api", ["--no-allow-unauthenticated"]);
    internalUrl = await deploy("internal-api", ["--allow-unauthenticated", "--ingress=internal"]);
  });
  after(async () => {
    await up.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("prints each deploy and revision after the banner", async () => {
    const banner = up.stdout().indexOf("point gcloud:");
    const revision = await waitFor(up.stdout, /\d\d:\d\d:\d\d \* revision (orders-api-\d{5}-\w+) created: image /);
    assert.ok(revision.index > banner);
    await waitFor(up.stdout, /\* service orders-api: 100% latest \(orders-api-\d{5}-\w+\) \(ingress all\)/);
    await waitFor(up.stdout, /\* service internal-api: .*\(ingress internal\)/);
  });

  it("a private service called without a token: 403, saying no token was sent", async () => {
    // Cloud Run answers a request without any credential 403 (a bad credential is the 401).
    const answer = await invokeUrl(frontEnd, ordersUrl, { path: "/no-token" });
    assert.equal(answer.status, 403);
    await waitFor(
      up.stdout,
      /\d\d:\d\d:\d\d 403 orders-api GET \/no-token - (<1|\d+) ms +no token: the request has no Authorization or X-Serverless-Authorization header/,
    );
  });

  it("a bad credential: 401, saying which problem (audience, not a JWT, two headers)", async () => {
    const wrongAudience = await token("--audience", "https://elsewhere.example");
    assert.equal((await invokeUrl(frontEnd, ordersUrl, { path: "/aud", headers: bearer(wrongAudience) })).status, 401);
    await waitFor(up.stdout, /401 orders-api GET \/aud - \S+ ms +bad audience: the token's audience is not one of/);
    assert.equal((await invokeUrl(frontEnd, ordersUrl, { path: "/jwt", headers: bearer("not-a-jwt") })).status, 401);
    await waitFor(up.stdout, /401 orders-api GET \/jwt - \S+ ms +bad token: not a JWT/);
    const rawHeaders = ["Host", new URL(ordersUrl).host, "Authorization", "Bearer a", "Authorization", "Bearer b"];
    assert.equal((await invokeUrl(frontEnd, ordersUrl, { path: "/two", rawHeaders })).status, 401);
    await waitFor(up.stdout, /401 orders-api GET \/two - \S+ ms +bad credential: more than one Authorization/);
  });

  it("a user without the invoker role: 403 naming the permission and the explain command, which agrees", async () => {
    const bob = await token("--as", "user:bob@example.com", "--audience", ordersUrl);
    assert.equal((await invokeUrl(frontEnd, ordersUrl, { path: "/x", headers: bearer(bob) })).status, 403);
    const line = await waitFor(
      up.stdout,
      /403 orders-api GET \/x user:bob@example\.com \S+ ms +user:bob@example\.com lacks run\.routes\.invoke \(no binding grants it; try: (runguard iam explain user:bob@example\.com run\.routes\.invoke (\S+))\)/,
    );
    assert.equal(line[2], "projects/my-gcp-project/locations/us-central1/services/orders-api");
    const [, ...explain] = (line[1] ?? "").split(" ");
    const denied = await cli(...explain).catch((error: { code: number; stdout: string }) => error);
    assert.equal((denied as { code: number }).code, 3);
    assert.match((denied as { stdout: string }).stdout, /^DENIED: user:bob@example.com/);
  });

  it("an allowed call: 200 with the principal and latency; the app's output under its service's name", async () => {
    const owner = await token("--audience", ordersUrl);
    const answer = await invokeUrl(frontEnd, ordersUrl, {
      path: "/say?text=hello-from-orders",
      headers: bearer(owner),
    });
    assert.equal(answer.status, 200);
    await waitFor(up.stdout, /\[orders-api\] logger started/);
    await waitFor(up.stdout, /\[orders-api\] hello-from-orders/);
    await waitFor(
      up.stdout,
      /200 orders-api GET \/say\?text=hello-from-orders user:developer@example\.com (<1|\d+) ms\n/,
    );
    await invokeUrl(frontEnd, ordersUrl, { path: "/say?text=oops&stream=stderr", headers: bearer(owner) });
    await waitFor(up.stdout, /\[orders-api stderr\] oops/);
    // Untrusted code cannot drive the developer's terminal: OSC 52 (clipboard), clear screen, C1 CSI.
    const hostile = encodeURIComponent("pwn\x1b]52;c;cHduZWQ=\x07\x1b[2J\u009b31m-end");
    await invokeUrl(frontEnd, ordersUrl, { path: `/say?text=${hostile}`, headers: bearer(owner) });
    await waitFor(up.stdout, /\[orders-api\] pwn\?\]52;c;cHduZWQ=\?\?\[2J\?31m-end/);
    assert.doesNotMatch(up.stdout(), /\x1b\]52|\x1b\[2J|\u009b/); // eslint-disable-line no-control-regex
    const logged = (await cli("logs", "--log", "stdout", "--limit", "20")).stdout;
    assert.match(logged, /\[orders-api\] {2}pwn\?\]52/);
    assert.doesNotMatch(logged, /\x1b|\u009b/); // eslint-disable-line no-control-regex
  });

  it("an instance that takes over a second to start gets a progress line, then how long it took", async () => {
    const slowApp =
      "setTimeout(() => require('node:http').createServer((q, r) => r.end('ok')).listen(process.env.PORT), 1500)";
    await cli(
      "images",
      "add",
      "gcr.io/runguard-tests/slow-start",
      "--dir",
      apps,
      "--",
      process.execPath,
      "-e",
      slowApp,
    );
    const url = await deploy("slow-api", ["--allow-unauthenticated"], { image: "gcr.io/runguard-tests/slow-start" });
    assert.equal((await invokeUrl(frontEnd, url, { path: "/cold" })).status, 200);
    const announced = await waitFor(up.stdout, /\d\d:\d\d:\d\d starting slow-api…\n/);
    const ready = await waitFor(up.stdout, /\d\d:\d\d:\d\d starting slow-api… ready in (\d+\.\d) s\n/);
    assert.ok(ready.index > announced.index);
    assert.ok(Number(ready[1]) >= 1.4, ready[0]);
    await waitFor(up.stdout, /200 slow-api GET \/cold - \d+ ms/);
    // A warm instance answers at once: no progress line for it.
    assert.equal((await invokeUrl(frontEnd, url, { path: "/warm" })).status, 200);
    await waitFor(up.stdout, /200 slow-api GET \/warm /);
    assert.equal(up.stdout().match(/starting slow-api…\n/g)?.length, 1);
  });

  it("a request refused by ingress: 404 naming the setting and where it came from", async () => {
    assert.equal((await invokeUrl(frontEnd, internalUrl, { path: "/in" })).status, 404);
    await waitFor(up.stdout, /404 internal-api GET \/in - \S+ ms +ingress internal: request came from the internet/);
  });

  it("IAP's refusals get a line too: no credential, an audience not IAP's, a user without accessViaIAP", async () => {
    const agent = await gcloud(env, ["beta", "services", "identity", "create", "--service=iap.googleapis.com"]);
    assert.equal(agent.code, 0, agent.stderr);
    const url = await deploy("gated-api", ["--no-allow-unauthenticated", "--iap"], { beta: true });
    const xhr = { "x-requested-with": "XMLHttpRequest" };
    assert.equal((await invokeUrl(frontEnd, url, { path: "/xhr", headers: xhr })).status, 401);
    await waitFor(up.stdout, /401 gated-api GET \/xhr - \S+ ms +IAP: no credential/);
    const runAudience = await token("--as", "user:erin@example.com", "--audience", url);
    assert.equal((await invokeUrl(frontEnd, url, { path: "/aud", headers: bearer(runAudience) })).status, 401);
    await waitFor(
      up.stdout,
      /401 gated-api GET \/aud user:erin@example\.com \S+ ms +IAP: the ID token's audience is not IAP's OAuth client/,
    );
    const { projectNumber } = JSON.parse(readFileSync(join(dataDir, "endpoints.json"), "utf8")) as {
      projectNumber: string;
    };
    const iapAudience = await token(
      "--as",
      "user:erin@example.com",
      "--audience",
      serviceIapClientId(projectNumber, "us-central1", "gated-api"),
    );
    assert.equal((await invokeUrl(frontEnd, url, { path: "/in", headers: bearer(iapAudience) })).status, 403);
    await waitFor(
      up.stdout,
      /403 gated-api GET \/in user:erin@example\.com \S+ ms +IAP: user:erin@example\.com lacks iap\.webServiceVersions\.accessViaIAP \(try: runguard iam explain /,
    );
  });

  it("policy and secret changes get a line; secret values and tokens never do; no colour without a TTY", async () => {
    const bound = await gcloud(env, [
      "run",
      "services",
      "add-iam-policy-binding",
      "orders-api",
      "--region=us-central1",
      "--member=user:carol@example.com",
      "--role=roles/run.invoker",
    ]);
    assert.equal(bound.code, 0, bound.stderr);
    await waitFor(
      up.stdout,
      /\* IAM policy of projects\/my-gcp-project\/locations\/us-central1\/services\/orders-api set: roles\/run\.invoker → user:carol@example\.com/,
    );
    const secretValue = "terminal-secret-value-8d1f";
    const created = await gcloud(env, ["secrets", "create", "db-password", "--data-file=-"], { stdin: secretValue });
    assert.equal(created.code, 0, created.stderr);
    await waitFor(up.stdout, /\* secret db-password created/);
    await waitFor(up.stdout, /\* secret db-password version 1: ENABLED/);
    const disabled = await gcloud(env, ["secrets", "versions", "disable", "1", "--secret=db-password"]);
    assert.equal(disabled.code, 0, disabled.stderr);
    await waitFor(up.stdout, /\* secret db-password version 1: DISABLED/);
    const everything = up.stdout() + up.stderr();
    assert.ok(!everything.includes(secretValue), "the secret's value is never printed");
    for (const minted of tokens) assert.ok(!everything.includes(minted.split(".")[2] ?? minted), "no token printed");
    assert.doesNotMatch(up.stdout(), ANSI);
  });

  it("`logs` shows requests with status, principal, method, URL, latency and reason", async () => {
    const { stdout } = await cli("logs", "--log", "requests", "--limit", "100");
    assert.match(
      stdout,
      /^\S+Z {2}403 +bob@example\.com {2}GET {2}https:\/\/orders-api-\d+\.us-central1\.run\.app\/x {2}(<1|\d+) ms {2}user:bob@example\.com lacks run\.routes\.invoke/m,
    );
    assert.match(
      stdout,
      /^\S+Z {2}200 +developer@example\.com {2}GET {2}https:\/\/orders-api-\S+\/say\?text=hello-from-orders {2}(<1|\d+) ms$/m,
    );
    assert.doesNotMatch(stdout, /OK +-/);
  });

  it("`logs --service`, `--since`, `--denied`", async () => {
    const ofService = (await cli("logs", "--service", "internal-api", "--limit", "100")).stdout;
    assert.match(ofService, /CreateService {2}namespaces\/my-gcp-project\/services\/internal-api/);
    assert.doesNotMatch(ofService, /orders-api/);
    const recent = (await cli("logs", "--log", "requests", "--since", "10m", "--limit", "100")).stdout;
    assert.match(recent, /\/no-token/);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal((await cli("logs", "--since", future)).stdout, "");
    const badSince = await cli("logs", "--since", "yesterday").catch(
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal((badSince as { code: number }).code, 1);
    assert.match((badSince as { stderr: string }).stderr, /--since 'yesterday': give a duration/);
    const denied = (await cli("logs", "--denied", "--limit", "100")).stdout;
    assert.match(denied, / 403 +- {2}GET {2}\S+\/no-token {2}\S+ ms {2}no token:/);
    assert.match(denied, / 401 +- {2}GET {2}\S+\/aud {2}\S+ ms {2}bad audience:/);
    assert.match(denied, / 403 +bob@example\.com {2}GET {2}\S+\/x /);
    // Refusals Cloud Run never logs (ingress, IAP) are runguard's own: listed here, not by the Logging API.
    assert.match(denied, / 404 +- {2}GET {2}\S+internal-api\S+\/in {2}\S+ ms {2}ingress internal: request came from/);
    assert.match(
      denied,
      / 403 +erin@example\.com {2}GET {2}\S+gated-api\S+\/in {2}\S+ ms {2}IAP: user:erin@example\.com lacks/,
    );
    assert.doesNotMatch(denied, / 200 /);
    const read = await gcloud(env, [
      "logging",
      "read",
      'logName:"run.googleapis.com%2Frequests" AND httpRequest.status>=400',
      "--format=json",
      "--limit=500",
    ]);
    assert.equal(read.code, 0, read.stderr);
    const listed = JSON.parse(read.stdout) as { httpRequest?: { requestUrl?: string; status?: number } }[];
    const urls = listed.map((entry) => entry.httpRequest?.requestUrl ?? "");
    assert.ok(
      urls.some((url) => url.endsWith("/x")),
      "the invoker refusal is in Cloud Logging",
    );
    assert.ok(!urls.some((url) => url.includes("internal-api") || url.includes("gated-api")), urls.join("\n"));
  });

  it("an unknown --log is refused with the valid names", async () => {
    const refused = await cli("logs", "--log", "request").catch((error: { code: number; stderr: string }) => error);
    assert.equal((refused as { code: number }).code, 1);
    assert.match(
      (refused as { stderr: string }).stderr,
      /Allowed choices are all, activity, .*requests, stdout, stderr/,
    );
  });

  it("`logs --follow` prints a request made after it started, from another process", async () => {
    const child = spawn(process.execPath, [bin, "--data-dir", dataDir, "logs", "--follow", "--limit", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(out, "", "--limit 0: nothing from before");
      await invokeUrl(frontEnd, ordersUrl, { path: "/followed" });
      await waitFor(() => out, / 403 +- {2}GET {2}\S+\/followed {2}\S+ ms {2}no token:/);
    } finally {
      child.kill("SIGINT");
    }
    assert.equal(await exited, 0);
  });

  it("`logs | head -1` and `logs --follow | head -1` end quietly with exit 0", async () => {
    const pipeline = (follow: string) =>
      `set -o pipefail; "${process.execPath}" "${bin}" --data-dir "${dataDir}" logs ${follow} | head -1`;
    const plain = await run("bash", ["-c", pipeline("")], { timeout: 30_000 });
    assert.equal(plain.stdout.split("\n").length, 2, plain.stdout);
    assert.equal(plain.stderr, "");
    // Following, the reader's going is noticed at the next entry written (as `kubectl logs -f | head -1`):
    // requests keep coming until the pipeline ends.
    // A group of its own, so that a failure ends the whole pipeline, not only bash.
    const followed = spawn("bash", ["-c", pipeline("--follow")], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    followed.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    followed.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    let code: number | null | undefined;
    followed.on("exit", (exitCode) => (code = exitCode));
    const deadline = Date.now() + 30_000;
    while (code === undefined && Date.now() < deadline) {
      await invokeUrl(frontEnd, ordersUrl, { path: "/after-head" });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    if (code === undefined && followed.pid !== undefined) process.kill(-followed.pid, "SIGKILL");
    assert.equal(code, 0, stderr);
    assert.equal(stdout.split("\n").length, 2, stdout);
    assert.equal(stderr, "");
  });
});

describe("runguard up's terminal settings", () => {
  /** Starts `up`, changes the project's policy with gcloud, and returns what `up` printed by then. */
  async function outputAfterAChange(upArgs: string[], settings: Record<string, string>, wrap?: "pty"): Promise<string> {
    const dataDir = mkdtempSync(join(tmpdir(), "rg-term-"));
    let up: UpProcess | undefined;
    let pty: ReturnType<typeof spawn> | undefined;
    let ptyOut = "";
    try {
      if (wrap === "pty") {
        // script(1) runs `up` on a pseudo-terminal: stdout is a TTY.
        const command = [process.execPath, bin, "--data-dir", dataDir, "up", ...FREE_PORTS, ...upArgs]
          .map((part) => `'${part}'`)
          .join(" ");
        pty = spawn("script", ["-qfec", command, "/dev/null"], {
          stdio: ["pipe", "pipe", "pipe"],
          env: { ...process.env, ...settings },
        });
        pty.stdout?.on("data", (chunk: Buffer) => (ptyOut += chunk.toString()));
        await waitFor(() => ptyOut, /point gcloud:/, 60_000);
      } else {
        up = spawnUp(dataDir, upArgs, { env: settings });
        await whenUp(up);
      }
      const output = () => (up ? up.stdout() : ptyOut);
      const cli = (...args: string[]) => run(process.execPath, [bin, "--data-dir", dataDir, ...args]);
      const env = JSON.parse((await cli("env", "--format", "json")).stdout) as Record<string, string>;
      const bound = await gcloud(env, [
        "projects",
        "add-iam-policy-binding",
        "my-gcp-project",
        "--member=user:dana@example.com",
        "--role=roles/run.invoker",
      ]);
      assert.equal(bound.code, 0, bound.stderr);
      // The line comes (or, with --quiet, would have come) within this long.
      await waitFor(output, /dana@example\.com/, 5_000).catch(() => undefined);
      return output();
    } finally {
      await up?.stop();
      if (pty) {
        // Ctrl-C on the terminal, as a user stops `up`; SIGTERM to script(1) only if that did not end it.
        const exited = new Promise((resolve) => pty?.once("exit", resolve));
        pty.stdin?.write("\x03");
        const timer = setTimeout(() => pty?.kill("SIGTERM"), 20_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  it("FORCE_COLOR colours the lines; NO_COLOR wins over it", async () => {
    const forced = await outputAfterAChange([], { NO_COLOR: "", FORCE_COLOR: "1" });
    assert.match(forced, DIMMED_CHANGE);
    const plain = await outputAfterAChange([], { NO_COLOR: "1", FORCE_COLOR: "1" });
    assert.match(plain, /\* IAM policy of projects\/my-gcp-project set: .*user:dana@example\.com/);
    assert.doesNotMatch(plain, ANSI);
  });

  it("on a terminal (a pty), lines are coloured unless NO_COLOR is set", async () => {
    const tty = await outputAfterAChange([], { NO_COLOR: "", FORCE_COLOR: "" }, "pty");
    assert.match(tty, DIMMED_CHANGE);
    const noColour = await outputAfterAChange([], { NO_COLOR: "1", FORCE_COLOR: "" }, "pty");
    assert.match(noColour, /\* IAM policy of projects\/my-gcp-project set/);
    assert.doesNotMatch(noColour, ANSI);
  });

  it("a reader that goes away does not stop `up`: it keeps serving and stops cleanly", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "rg-term-"));
    const up = spawnUp(dataDir, [], { env: NO_COLOUR_SETTINGS });
    try {
      await whenUp(up);
      up.child.stdout?.destroy();
      const cli = (...args: string[]) => run(process.execPath, [bin, "--data-dir", dataDir, ...args]);
      const env = JSON.parse((await cli("env", "--format", "json")).stdout) as Record<string, string>;
      const binding = ["--member=user:erin@example.com", "--role=roles/run.invoker"];
      // Each change is a line for a terminal no one reads any more.
      for (const verb of ["add-iam-policy-binding", "remove-iam-policy-binding", "add-iam-policy-binding"]) {
        const changed = await gcloud(env, ["projects", verb, "my-gcp-project", ...binding]);
        assert.equal(changed.code, 0, changed.stderr);
      }
      const read = await gcloud(env, ["projects", "get-iam-policy", "my-gcp-project", "--format=json"]);
      assert.match(read.stdout, /user:erin@example\.com/);
      assert.equal(await up.stop(), 0);
      assert.doesNotMatch(up.stderr(), /Error|EPIPE/);
    } finally {
      await up.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("--quiet prints only the banner", async () => {
    const quiet = await outputAfterAChange(["--quiet"], NO_COLOUR_SETTINGS);
    assert.match(quiet, /point gcloud:/);
    assert.doesNotMatch(quiet, /IAM policy|dana@example\.com/);
    const lines = quiet.trimEnd().split("\n");
    assert.match(lines[lines.length - 1] ?? "", /stopped\.|point gcloud:/);
  });
});
