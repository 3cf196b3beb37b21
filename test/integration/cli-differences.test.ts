// CLI behaviour a team meets in the seed's scenarios, driven as a user runs it (`up` in the foreground, the real
// gcloud from `runguard env`): gcloud names the signed-in account in its errors, `groups` takes the `group:`
// member form, `iam explain` takes gcloud's short service names and refuses what does not exist, and a reader
// that closes the pipe early (`| head -1`) does not crash a command.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gcloud } from "../helpers/gcloud.js";
import { bin, spawnUp, whenUp, type UpProcess } from "../helpers/up-process.js";

const run = promisify(execFile);

interface Failure {
  code: number;
  stdout: string;
  stderr: string;
}

describe("runguard CLI and gcloud, as the seed's scenarios use them", () => {
  let dataDir: string;
  let up: UpProcess;
  let owner: Record<string, string>;
  const cli = (...args: string[]) => run(process.execPath, [bin, "--data-dir", dataDir, ...args], { timeout: 60_000 });
  const cliFails = (...args: string[]) =>
    cli(...args).then(
      (r) => assert.fail(`expected a failure, got ${r.stdout}`),
      (e: Failure) => e,
    );
  const envFor = async (principal: string) =>
    JSON.parse((await cli("env", "--format", "json", "--as", principal)).stdout) as Record<string, string>;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "rg-cli-diff-"));
    up = spawnUp(dataDir);
    await whenUp(up);
    owner = JSON.parse((await cli("env", "--format", "json")).stdout) as Record<string, string>;
    const deployed = await gcloud(owner, [
      "run",
      "deploy",
      "my-api",
      "--image=us-docker.pkg.dev/cloudrun/container/hello",
      "--region=us-central1",
      "--no-allow-unauthenticated",
    ]);
    assert.equal(deployed.code, 0, deployed.stderr);
  });
  after(async () => {
    await up.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("`env` signs gcloud in as the account, so a denied call names it instead of [None]", async () => {
    const alice = await envFor("user:alice@example.com");
    assert.equal(alice["CLOUDSDK_AUTH_ACCESS_TOKEN_FILE"], undefined);
    const account = await gcloud(alice, ["config", "get-value", "account"]);
    assert.equal(account.stdout.trim(), "alice@example.com");
    const listed = await gcloud(alice, ["auth", "list", "--format=value(account)"]);
    assert.equal(listed.stdout.trim(), "alice@example.com");
    const denied = await gcloud(alice, ["secrets", "list"]);
    assert.equal(denied.code, 1);
    assert.match(
      denied.stderr,
      /\[alice@example\.com\] does not have permission to access projects instance \[my-gcp-project\]/,
    );
    assert.match(denied.stderr, /authenticated as alice@example\.com which is the active account/);
    assert.doesNotMatch(denied.stderr, /\[None\]/);
    const owner = await gcloud(await envFor("user:developer@example.com"), ["secrets", "list"]);
    assert.equal(owner.code, 0, owner.stderr);
  });

  it("`groups add-member` takes a group as EMAIL or group:EMAIL and refuses other prefixes", async () => {
    const added = JSON.parse(
      (await cli("groups", "add-member", "group:readers@example.com", "user:bob@example.com")).stdout,
    ) as {
      email: string;
      members: string[];
    };
    assert.deepEqual(added, { email: "readers@example.com", members: ["user:bob@example.com"] });
    const listed = JSON.parse((await cli("groups", "list")).stdout) as { groups: Array<{ email: string }> };
    assert.deepEqual(
      listed.groups.map((g) => g.email),
      ["readers@example.com"],
      "no group whose email is literally group:…",
    );
    const refused = await cliFails("groups", "add-member", "user:carol@example.com", "user:bob@example.com");
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /'user:carol@example\.com' is not a group: name a group as EMAIL or group:EMAIL/);
    // The group is the one IAM bindings name: bob, its member, may read a secret granted to group:readers@…
    const created = await gcloud(owner, ["secrets", "create", "shared-config", "--data-file=-"], { stdin: "cfg" });
    assert.equal(created.code, 0, created.stderr);
    const bound = await gcloud(owner, [
      "secrets",
      "add-iam-policy-binding",
      "shared-config",
      "--member=group:readers@example.com",
      "--role=roles/secretmanager.secretAccessor",
    ]);
    assert.equal(bound.code, 0, bound.stderr);
    const read = await gcloud(await envFor("user:bob@example.com"), [
      "secrets",
      "versions",
      "access",
      "latest",
      "--secret=shared-config",
    ]);
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout, "cfg");
    const removed = JSON.parse(
      (await cli("groups", "remove-member", "group:readers@example.com", "user:bob@example.com")).stdout,
    ) as {
      members: string[];
    };
    assert.deepEqual(removed.members, []);
  });

  it("`iam explain` resolves a short service name in the default project and region", async () => {
    const { stdout } = await cli("iam", "explain", "user:developer@example.com", "run.routes.invoke", "my-api");
    assert.match(
      stdout,
      /^ALLOWED: user:developer@example.com has run.routes.invoke on projects\/my-gcp-project\/locations\/us-central1\/services\/my-api/,
    );
    const denied = await cliFails("iam", "explain", "user:eve@example.com", "run.routes.invoke", "my-api");
    assert.equal(denied.code, 3, "a known service the principal may not invoke is DENIED");
    assert.match(
      denied.stdout,
      /^DENIED: user:eve@example.com lacks run.routes.invoke on projects\/my-gcp-project\/locations\/us-central1\/services\/my-api/,
    );
  });

  it("`iam explain` and `iam who-can` report an unknown resource with a non-zero exit, not DENIED", async () => {
    for (const resource of ["unknown", "projects/my-gcp-project/locations/us-central1/services/unknown"]) {
      const failed = await cliFails("iam", "explain", "user:eve@example.com", "run.routes.invoke", resource);
      assert.equal(failed.code, 1);
      assert.doesNotMatch(failed.stdout, /DENIED/);
      assert.match(
        failed.stderr,
        /unknown resource 'projects\/my-gcp-project\/locations\/us-central1\/services\/unknown': no such service/,
      );
    }
    const secret = await cliFails(
      "iam",
      "who-can",
      "secretmanager.versions.access",
      "projects/my-gcp-project/secrets/nope",
    );
    assert.match(secret.stderr, /unknown resource 'projects\/my-gcp-project\/secrets\/nope'/);
  });

  it("a reader that closes the pipe early (`services list | head -1`) ends the output, not in a crash", async () => {
    for (const args of [
      ["services", "list"],
      ["logs", "--limit", "1000"],
    ]) {
      const child = spawn(process.execPath, [bin, "--data-dir", dataDir, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      // The reader goes away before the command writes anything: every write gets EPIPE.
      child.stdout.destroy();
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      assert.equal(stderr, "", args.join(" "));
      assert.equal(code, 0, args.join(" "));
    }
    const { stdout } = await run("bash", [
      "-c",
      `set -o pipefail; "${process.execPath}" "${bin}" --data-dir "${dataDir}" services list | head -1`,
    ]);
    assert.equal(stdout, "my-api (us-central1)\n");
  });
});
