// The seed's Secret Manager commands and the versions lifecycle, with the real gcloud against runguard.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { gcloud } from "../helpers/gcloud.js";
import { PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";

const SA = `my-api-sa@${PROJECT}.iam.gserviceaccount.com`;

describe("gcloud secrets against runguard", () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  const g = (args: string[], stdin?: string) => gcloud(env, args, stdin === undefined ? {} : { stdin });

  before(async () => {
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
    assert.equal((await g(["iam", "service-accounts", "create", "my-api-sa"])).code, 0);
  });
  after(async () => rg.stop());

  it("creates a secret from stdin (the seed's command) and reads it back byte for byte", async () => {
    const created = await g(["secrets", "create", "db-password", "--data-file=-"], "my-database-password");
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /Created version \[1\] of the secret \[db-password\]\./);
    const accessed = await g(["secrets", "versions", "access", "latest", "--secret=db-password"]);
    assert.equal(accessed.code, 0, accessed.stderr);
    assert.equal(accessed.stdout, "my-database-password");
    const again = await g(["secrets", "create", "db-password", "--data-file=-"], "x");
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
  });

  it("grants the accessor role on the secret (the seed's command) and IAM honours it", async () => {
    const sa = { kind: "serviceAccount" as const, email: SA };
    const resource = `projects/${PROJECT}/secrets/db-password`;
    assert.equal(rg.platform.engine.decide(sa, "secretmanager.versions.access", resource).allowed, false);
    const bound = await g([
      "secrets",
      "add-iam-policy-binding",
      "db-password",
      `--member=serviceAccount:${SA}`,
      "--role=roles/secretmanager.secretAccessor",
    ]);
    assert.equal(bound.code, 0, bound.stderr);
    assert.match(bound.stderr, /Updated IAM policy for secret \[db-password\]\./);
    assert.equal(
      rg.platform.engine.decide(sa, "secretmanager.versions.access", `${resource}/versions/1`).allowed,
      true,
    );
  });

  it("versions: add, list, disable (latest then fails, no fallback), enable, destroy", async () => {
    assert.equal((await g(["secrets", "versions", "add", "db-password", "--data-file=-"], "second")).code, 0);
    const listed = await g(["secrets", "versions", "list", "db-password", "--format=value(name,state)"]);
    assert.deepEqual(
      listed.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/)),
      [
        ["2", "enabled"],
        ["1", "enabled"],
      ],
    );
    assert.equal((await g(["secrets", "versions", "disable", "2", "--secret=db-password"])).code, 0);
    const disabled = await g(["secrets", "versions", "access", "latest", "--secret=db-password"]);
    assert.equal(disabled.code, 1);
    assert.match(
      disabled.stderr,
      /FAILED_PRECONDITION: Secret Version \[projects\/\d+\/secrets\/db-password\/versions\/2\] is in DISABLED state\./,
    );
    assert.equal(
      (await g(["secrets", "versions", "access", "1", "--secret=db-password"])).stdout,
      "my-database-password",
    );
    assert.equal((await g(["secrets", "versions", "enable", "2", "--secret=db-password"])).code, 0);
    assert.equal((await g(["secrets", "versions", "access", "latest", "--secret=db-password"])).stdout, "second");
    assert.equal((await g(["secrets", "versions", "destroy", "2", "--secret=db-password", "--quiet"])).code, 0);
    const destroyed = await g(["secrets", "versions", "access", "2", "--secret=db-password"]);
    assert.match(destroyed.stderr, /is in DESTROYED state/);
    const stored = await rg.platform.store.get<{ sealed?: unknown }>(
      "secretVersion",
      `projects/${PROJECT}/secrets/db-password/versions/2`,
    );
    assert.equal(stored?.sealed, undefined, "a destroyed version's payload is gone from the store");
  });

  it("lists secrets, and rejects bad names, unknown versions and principals without access", async () => {
    const listed = await g(["secrets", "list", "--format=value(name)"]);
    assert.equal(listed.stdout.trim(), "db-password");
    assert.equal((await g(["secrets", "create", "bad/name", "--data-file=-"], "x")).code, 1);
    const missing = await g(["secrets", "versions", "access", "9", "--secret=db-password"]);
    assert.match(missing.stderr, /NOT_FOUND/);
    const nosuch = await g(["secrets", "versions", "access", "latest", "--secret=nosuch"]);
    assert.match(nosuch.stderr, /NOT_FOUND/);
    const alice = await rg.gcloudEnvFor("user:alice@example.com");
    const denied = await gcloud(alice, ["secrets", "versions", "access", "1", "--secret=db-password"]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /PERMISSION_DENIED: Permission 'secretmanager\.versions\.access' denied/);
    assert.ok(!denied.stderr.includes("my-database-password"));
  });

  it("writes Data Access entries for every access, granted or denied, and never the payload", async () => {
    const logs = await rg.platform.store.readLogs({
      logNamePrefix: `projects/${PROJECT}/logs/cloudaudit.googleapis.com%2Fdata_access`,
      limit: 100,
    });
    const accesses = logs.map(
      (r) =>
        r.entry["protoPayload"] as {
          methodName: string;
          authenticationInfo: { principalEmail?: string };
          authorizationInfo: Array<{ granted: boolean }>;
        },
    );
    assert.ok(
      accesses.every((p) => p.methodName === "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion"),
    );
    assert.ok(
      accesses.some(
        (p) => p.authenticationInfo.principalEmail === "alice@example.com" && p.authorizationInfo[0]?.granted === false,
      ),
    );
    assert.ok(accesses.some((p) => p.authorizationInfo[0]?.granted === true));
    const everything = JSON.stringify(await rg.platform.store.readLogs({ limit: 10_000 }));
    assert.ok(
      !everything.includes("my-database-password") &&
        !everything.includes(Buffer.from("my-database-password").toString("base64")),
    );
  });
});
