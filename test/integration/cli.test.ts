// The `runguard` CLI as a user runs it: `up` in the foreground, `env` feeding the real gcloud, `token`,
// `iam explain`, `logs`, `groups`, and a clean shutdown on SIGINT.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gcloud } from "../helpers/gcloud.js";

const bin = fileURLToPath(new URL("../../../bin/runguard.js", import.meta.url));
const run = promisify(execFile);

describe("runguard CLI", () => {
  let dataDir: string;
  let up: ChildProcess;
  let output = "";
  const cli = (...args: string[]) => run(process.execPath, [bin, "--data-dir", dataDir, ...args], { timeout: 60_000 });

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "rg-cli-"));
    up = spawn(
      process.execPath,
      [
        bin,
        "--data-dir",
        dataDir,
        "up",
        "--port",
        "0",
        "--front-end-port",
        "0",
        "--lb-port",
        "0",
        "--lb-https-port",
        "0",
      ],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    await new Promise<void>((resolve) => {
      up.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("front end:")) resolve();
      });
    });
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("`up` prints its endpoints", () => {
    assert.match(output, /control plane: +http:\/\/127\.0\.0\.1:\d+/);
    assert.match(output, /project: +my-gcp-project \(number \d{12}\)/);
  });

  it("`env --as` points the real gcloud at runguard as that principal", async () => {
    const { stdout } = await cli("env", "--format", "json", "--as", "user:alice@example.com");
    const env = JSON.parse(stdout) as Record<string, string>;
    assert.equal(env["CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN"], "https://run.googleapis.com/");
    // What `gcloud run deploy --source` calls besides Run: storage's base URL has a path, as its client's has.
    assert.equal(env["CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE"], "https://storage.googleapis.com/storage/v1/");
    assert.equal(env["CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDBUILD"], "https://cloudbuild.googleapis.com/");
    const denied = await gcloud(env, ["iam", "service-accounts", "list"]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /iam\.serviceAccounts\.list/);
    const owner = JSON.parse((await cli("env", "--format", "json")).stdout) as Record<string, string>;
    const listed = await gcloud(owner, ["iam", "service-accounts", "list", "--format=value(email)"]);
    assert.equal(listed.code, 0, listed.stderr);
  });

  it("`groups add-member` changes who is allowed, and `iam explain` says why", async () => {
    const env = JSON.parse((await cli("env", "--format", "json")).stdout) as Record<string, string>;
    const bind = await gcloud(env, [
      "projects",
      "add-iam-policy-binding",
      "my-gcp-project",
      "--member=group:team@example.com",
      "--role=roles/run.invoker",
    ]);
    assert.equal(bind.code, 0, bind.stderr);
    // `iam explain` refuses a resource that does not exist: deploy the service it explains first.
    const deployed = await gcloud(env, [
      "run",
      "deploy",
      "api",
      "--image=us-docker.pkg.dev/cloudrun/container/hello",
      "--region=us-central1",
      "--no-allow-unauthenticated",
      "--ingress=internal",
    ]);
    assert.equal(deployed.code, 0, deployed.stderr);
    await cli("groups", "add-member", "team@example.com", "user:bob@example.com");
    const { stdout } = await cli(
      "iam",
      "explain",
      "user:bob@example.com",
      "run.routes.invoke",
      "projects/my-gcp-project/locations/us-central1/services/api",
    );
    assert.match(stdout, /^ALLOWED: user:bob@example.com has run.routes.invoke/);
    assert.match(
      stdout,
      /granted by roles\/run\.invoker on projects\/my-gcp-project to group:team@example.com \(group:team@example.com\)/,
    );
    const denied = await cli(
      "iam",
      "explain",
      "user:eve@example.com",
      "run.routes.invoke",
      "projects/my-gcp-project",
    ).catch((e: { code: number; stdout: string }) => e);
    assert.equal((denied as { code: number }).code, 3);
    const service = await cli(
      "iam",
      "explain",
      "user:bob@example.com",
      "run.routes.invoke",
      "projects/my-gcp-project/locations/us-central1/services/api",
    );
    assert.match(service.stdout, /ingress internal: from the internet 404 before IAM; from a VPC network admitted/);
    const who = await cli("iam", "who-can", "run.routes.invoke", "projects/my-gcp-project");
    assert.match(who.stdout, /user:bob@example.com +via roles\/run\.invoker on projects\/my-gcp-project/);
  });

  it("`token` signs in a user; service accounts go through IAM Credentials", async () => {
    const { stdout } = await cli("token", "--audience", "https://x.example", "--as", "user:alice@example.com");
    const claims = JSON.parse(Buffer.from(stdout.trim().split(".")[1] ?? "", "base64url").toString()) as Record<
      string,
      unknown
    >;
    assert.equal(claims["email"], "alice@example.com");
    assert.equal(claims["aud"], "https://x.example");
    const refused = await cli(
      "token",
      "--audience",
      "https://x.example",
      "--impersonate",
      "123-compute@developer.gserviceaccount.com",
    ).catch((e: { stderr: string }) => e);
    assert.match((refused as { stderr: string }).stderr, /PERMISSION_DENIED|NOT_FOUND/);
  });

  it("`logs --denied` shows the denied calls", async () => {
    const { stdout } = await cli("logs", "--denied");
    assert.match(stdout, /alice@example.com +google\.iam\.admin\.v1\.ListServiceAccounts/);
  });

  it("`users add` reads the password from stdin; only its scrypt hash is kept, nowhere in the audit log", async () => {
    const password = "correct-horse-battery-staple";
    const child = execFile(process.execPath, [bin, "--data-dir", dataDir, "users", "add", "carol@example.com"]);
    let stdout = "";
    child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stdin?.end(`${password}\n`);
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(code, 0);
    assert.equal((JSON.parse(stdout) as { canSignIn: boolean }).canSignIn, true);
    const listed = JSON.parse((await cli("users", "list")).stdout) as {
      users: Array<{ email: string; canSignIn: boolean }>;
    };
    assert.ok(listed.users.some((u) => u.email === "carol@example.com" && u.canSignIn));
    assert.doesNotMatch(JSON.stringify(listed), /passwordHash|hash|salt/);
    const logs = (await cli("logs", "--limit", "1000")).stdout;
    assert.match(logs, /SetUserPassword/);
    assert.doesNotMatch(logs, new RegExp(password));
    const tooShort = execFile(process.execPath, [bin, "--data-dir", dataDir, "users", "add", "dave@example.com"]);
    let stderr = "";
    tooShort.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
    tooShort.stdin?.end("short\n");
    assert.notEqual(await new Promise<number | null>((resolve) => tooShort.on("close", resolve)), 0);
    assert.match(stderr, /at least 8 characters/);
  });

  it("stops cleanly on SIGINT", async () => {
    up.kill("SIGINT");
    const code = await new Promise((resolve) => up.once("exit", resolve));
    assert.equal(code, 0);
    assert.match(output, /stopped\./);
  });
});
