// The seed's IAM commands, run unchanged with the real gcloud against a real runguard.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { gcloud } from "../helpers/gcloud.js";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import type { ServiceAccount } from "../../src/accounts/service-accounts.js";

const SA = `my-api-sa@${PROJECT}.iam.gserviceaccount.com`;

describe("gcloud iam / projects against runguard", () => {
  let rg: TestRunguard;
  let ownerEnv: Record<string, string>;

  before(async () => {
    rg = await startTestRunguard();
    ownerEnv = await rg.gcloudEnvFor();
  });
  after(async () => rg.stop());

  it("creates a service account exactly as the seed does", async () => {
    const result = await gcloud(ownerEnv, [
      "iam",
      "service-accounts",
      "create",
      "my-api-sa",
      "--display-name=Service account for my-api",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Created service account \[my-api-sa\]\./);
    const stored = await rg.platform.store.get<ServiceAccount>(
      "serviceAccount",
      `projects/${PROJECT}/serviceAccounts/${SA}`,
    );
    assert.equal(stored?.displayName, "Service account for my-api");
    assert.match(stored?.uniqueId ?? "", /^\d{21}$/);
  });

  it("refuses a duplicate with Google's conflict message", async () => {
    const result = await gcloud(ownerEnv, ["iam", "service-accounts", "create", "my-api-sa"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Service account my-api-sa already exists within project projects\/my-gcp-project/);
  });

  it("lists service accounts, including the default compute account", async () => {
    const result = await gcloud(ownerEnv, ["iam", "service-accounts", "list", "--format=value(email)"]);
    assert.equal(result.code, 0, result.stderr);
    const emails = result.stdout.trim().split("\n");
    assert.ok(emails.includes(SA));
    assert.ok(emails.some((e) => /^\d+-compute@developer\.gserviceaccount\.com$/.test(e)));
  });

  it("adds a project binding and IAM then grants the role's permissions", async () => {
    const result = await gcloud(ownerEnv, [
      "projects",
      "add-iam-policy-binding",
      PROJECT,
      `--member=serviceAccount:${SA}`,
      "--role=roles/cloudsql.client",
      "--format=json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Updated IAM policy for project \[my-gcp-project\]\./);
    const policy = JSON.parse(result.stdout) as { bindings: Array<{ role: string; members: string[] }> };
    assert.deepEqual(policy.bindings.find((b) => b.role === "roles/cloudsql.client")?.members, [
      `serviceAccount:${SA}`,
    ]);
    const sa = { kind: "serviceAccount" as const, email: SA };
    assert.equal(rg.platform.engine.decide(sa, "cloudsql.instances.connect", `projects/${PROJECT}`).allowed, true);
    assert.equal(rg.platform.engine.decide(sa, "run.routes.invoke", `projects/${PROJECT}`).allowed, false);
  });

  it("prints the project policy with the owner, the compute account's editor role and the new binding", async () => {
    const result = await gcloud(ownerEnv, ["projects", "get-iam-policy", PROJECT, "--format=json"]);
    assert.equal(result.code, 0, result.stderr);
    const policy = JSON.parse(result.stdout) as { etag: string; bindings: Array<{ role: string; members: string[] }> };
    const roles = Object.fromEntries(policy.bindings.map((b) => [b.role, b.members]));
    assert.deepEqual(roles["roles/owner"], [`user:${OWNER}`]);
    assert.match(roles["roles/editor"]?.[0] ?? "", /^serviceAccount:\d+-compute@developer\.gserviceaccount\.com$/);
    assert.deepEqual(roles["roles/cloudsql.client"], [`serviceAccount:${SA}`]);
    assert.match(policy.etag, /^[A-Za-z0-9_=+/-]+$/);
  });

  it("creates a key file that is recorded and works for gcloud's own service-account sign-in", async () => {
    const cwd = rg.dataDir;
    const created = await gcloud(
      ownerEnv,
      ["iam", "service-accounts", "keys", "create", "key.json", `--iam-account=${SA}`],
      {
        cwd,
      },
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /created key \[[0-9a-f]{40}\] of type \[json\] as \[key.json\]/);
    const keyFile = join(cwd, "key.json");
    assert.ok(existsSync(keyFile));
    assert.equal(statSync(keyFile).mode & 0o077, 0, "gcloud writes the key file private");
    const key = JSON.parse(readFileSync(keyFile, "utf8")) as Record<string, string>;
    assert.equal(key["type"], "service_account");
    assert.equal(key["client_email"], SA);
    const stored = await rg.platform.store.list<{ keyId: string }>("serviceAccountKey");
    assert.deepEqual(
      stored.map((k) => k.keyId),
      [key["private_key_id"]],
    );
    assert.ok(!JSON.stringify(stored).includes("PRIVATE KEY"), "the private key is never stored");

    const saEnv = { ...ownerEnv, CLOUDSDK_CONFIG: join(cwd, "gcloud-sa") };
    delete (saEnv as Record<string, string | undefined>)["CLOUDSDK_AUTH_ACCESS_TOKEN_FILE"];
    const activated = await gcloud(saEnv, ["auth", "activate-service-account", `--key-file=${keyFile}`]);
    assert.equal(activated.code, 0, activated.stderr);
    const printed = await gcloud(saEnv, ["auth", "print-identity-token", "--audiences=https://my-api.example"]);
    assert.equal(printed.code, 0, printed.stderr);
    const verdict = await rg.platform.tokens.verifyIdToken(
      printed.stdout.trim(),
      (aud) => aud === "https://my-api.example",
    );
    assert.equal(verdict.ok, true);
    assert.equal(verdict.ok && verdict.principal.email, SA);
  });

  it("denies a principal without roles and audits the denial", async () => {
    const aliceEnv = await rg.gcloudEnvFor("user:alice@example.com");
    const result = await gcloud(aliceEnv, ["iam", "service-accounts", "create", "alice-sa"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Permission 'iam\.serviceAccounts\.create' denied on resource/);
    const logs = await rg.platform.store.readLogs({ logNamePrefix: `projects/${PROJECT}/logs/cloudaudit`, limit: 50 });
    const denied = logs.find((r) => JSON.stringify(r.entry).includes("alice@example.com"));
    assert.ok(denied, "a denied call is audited");
    const payload = denied.entry["protoPayload"] as Record<string, unknown>;
    assert.equal(payload["methodName"], "google.iam.admin.v1.CreateServiceAccount");
    assert.deepEqual(payload["authorizationInfo"], [
      { resource: `projects/${PROJECT}`, permission: "iam.serviceAccounts.create", granted: false },
    ]);
    assert.deepEqual(payload["status"], {
      code: 7,
      message: `Permission 'iam.serviceAccounts.create' denied on resource 'projects/${PROJECT}' (or it may not exist).`,
    });
  });

  it("rejects an unknown role and a malformed member with INVALID_ARGUMENT, leaving the policy untouched", async () => {
    const before = await gcloud(ownerEnv, ["projects", "get-iam-policy", PROJECT, "--format=json"]);
    const badRole = await gcloud(ownerEnv, [
      "projects",
      "add-iam-policy-binding",
      PROJECT,
      `--member=serviceAccount:${SA}`,
      "--role=roles/no.such.role",
    ]);
    assert.equal(badRole.code, 1);
    assert.match(badRole.stderr, /INVALID_ARGUMENT|not supported|does not exist/i);
    const after = await gcloud(ownerEnv, ["projects", "get-iam-policy", PROJECT, "--format=json"]);
    assert.equal(after.stdout, before.stdout);
  });

  it("impersonation needs roles/iam.serviceAccountTokenCreator, which the owner does not have", async () => {
    const args = [
      "auth",
      "print-identity-token",
      "--audiences=https://x.example",
      `--impersonate-service-account=${SA}`,
    ];
    const denied = await gcloud(ownerEnv, args);
    assert.notEqual(denied.code, 0);
    const grant = await gcloud(ownerEnv, [
      "iam",
      "service-accounts",
      "add-iam-policy-binding",
      SA,
      `--member=user:${OWNER}`,
      "--role=roles/iam.serviceAccountTokenCreator",
    ]);
    assert.equal(grant.code, 0, grant.stderr);
    const allowed = await gcloud(ownerEnv, args);
    assert.equal(allowed.code, 0, allowed.stderr);
    const verdict = await rg.platform.tokens.verifyIdToken(allowed.stdout.trim(), (aud) => aud === "https://x.example");
    assert.equal(verdict.ok && verdict.principal.email, SA);
  });

  it("describes, disables, enables and deletes a service account; a deleted member shows as deleted:", async () => {
    const create = await gcloud(ownerEnv, ["iam", "service-accounts", "create", "short-lived-sa"]);
    assert.equal(create.code, 0, create.stderr);
    const email = `short-lived-sa@${PROJECT}.iam.gserviceaccount.com`;
    const described = await gcloud(ownerEnv, ["iam", "service-accounts", "describe", email, "--format=json"]);
    assert.equal(described.code, 0, described.stderr);
    assert.equal((JSON.parse(described.stdout) as { email: string }).email, email);
    assert.equal((await gcloud(ownerEnv, ["iam", "service-accounts", "disable", email])).code, 0);
    const token = await rg.accessTokenFor(`serviceAccount:${email}`);
    const refused = await fetch(`${rg.endpoints.api}/v1/projects/${PROJECT}/serviceAccounts`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(refused.status, 401, "a disabled account's tokens stop working");
    assert.equal((await gcloud(ownerEnv, ["iam", "service-accounts", "enable", email])).code, 0);
    const bound = await gcloud(ownerEnv, [
      "projects",
      "add-iam-policy-binding",
      PROJECT,
      `--member=serviceAccount:${email}`,
      "--role=roles/viewer",
    ]);
    assert.equal(bound.code, 0, bound.stderr);
    const deleted = await gcloud(ownerEnv, ["iam", "service-accounts", "delete", email, "--quiet"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    const policy = await gcloud(ownerEnv, ["projects", "get-iam-policy", PROJECT, "--format=json"]);
    assert.match(policy.stdout, new RegExp(`deleted:serviceAccount:${email.replace(/\./g, "\\.")}\\?uid=\\d{21}`));
    const gone = await gcloud(ownerEnv, ["iam", "service-accounts", "describe", email]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /NOT_FOUND/);
  });
});
