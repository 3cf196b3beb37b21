// The seed's Cloud Run commands, unchanged, with the real gcloud against runguard's Run Admin API.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { gcloud } from "../helpers/gcloud.js";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import type { StoredRevision, StoredService } from "../../src/run/types.js";

const IMAGE = "us-docker.pkg.dev/cloudrun/container/hello";
const REGION = "--region=us-central1";
const SA = `my-api-sa@${PROJECT}.iam.gserviceaccount.com`;
const FRONTEND_SA = `frontend-runner@${PROJECT}.iam.gserviceaccount.com`;

describe("gcloud run against runguard's Run Admin API", () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  let number: string;
  const service = (name: string) =>
    rg.platform.store.get<StoredService>("service", `projects/${PROJECT}/locations/us-central1/services/${name}`);
  const policyOf = async (name: string) => {
    const result = await gcloud(env, ["run", "services", "get-iam-policy", name, REGION, "--format=json"]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as { bindings?: Array<{ role: string; members: string[] }> };
  };

  before(async () => {
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
    number = rg.endpoints.projectNumber;
    for (const id of ["my-api-sa", "frontend-runner"]) {
      const created = await gcloud(env, ["iam", "service-accounts", "create", id]);
      assert.equal(created.code, 0, created.stderr);
    }
  });
  after(async () => rg.stop());

  it("deploys a public service with --allow-unauthenticated", async () => {
    const result = await gcloud(env, [
      "run",
      "deploy",
      "my-public-api",
      `--image=${IMAGE}`,
      REGION,
      "--allow-unauthenticated",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /Service \[my-public-api\] revision \[my-public-api-00001-[a-z0-9]{3}\] has been deployed and is serving 100 percent of traffic\./,
    );
    assert.match(result.stderr, new RegExp(`Service URL: https://my-public-api-${number}\\.us-central1\\.run\\.app`));
    assert.deepEqual((await policyOf("my-public-api")).bindings, [
      { role: "roles/run.invoker", members: ["allUsers"] },
    ]);
  });

  it("deploys a private service with --no-allow-unauthenticated and a dedicated service account", async () => {
    const result = await gcloud(env, [
      "run",
      "deploy",
      "my-private-api",
      `--image=${IMAGE}`,
      REGION,
      "--no-allow-unauthenticated",
      `--service-account=${SA}`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await policyOf("my-private-api")).bindings, undefined);
    const stored = await service("my-private-api");
    assert.equal(stored?.template.spec.serviceAccountName, SA);
  });

  it("without --service-account, runs as the default compute service account", async () => {
    const result = await gcloud(env, [
      "run",
      "deploy",
      "default-sa-api",
      `--image=${IMAGE}`,
      REGION,
      "--no-allow-unauthenticated",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      (await service("default-sa-api"))?.template.spec.serviceAccountName,
      `${number}-compute@developer.gserviceaccount.com`,
    );
  });

  it("runs the seed's add-/remove-iam-policy-binding commands", async () => {
    const add = await gcloud(env, [
      "run",
      "services",
      "add-iam-policy-binding",
      "my-private-api",
      `--member=serviceAccount:${FRONTEND_SA}`,
      "--role=roles/run.invoker",
      REGION,
      `--project=${PROJECT}`,
    ]);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stderr, /Updated IAM policy for service \[my-private-api\]\./);
    const frontend = { kind: "serviceAccount" as const, email: FRONTEND_SA };
    const resource = `projects/${PROJECT}/locations/us-central1/services/my-private-api`;
    assert.equal(rg.platform.engine.decide(frontend, "run.routes.invoke", resource).allowed, true);
    const remove = await gcloud(env, [
      "run",
      "services",
      "remove-iam-policy-binding",
      "my-private-api",
      `--member=serviceAccount:${FRONTEND_SA}`,
      "--role=roles/run.invoker",
      REGION,
      `--project=${PROJECT}`,
    ]);
    assert.equal(remove.code, 0, remove.stderr);
    assert.equal(rg.platform.engine.decide(frontend, "run.routes.invoke", resource).allowed, false);
    const again = await gcloud(env, [
      "run",
      "services",
      "remove-iam-policy-binding",
      "my-private-api",
      `--member=serviceAccount:${FRONTEND_SA}`,
      "--role=roles/run.invoker",
      REGION,
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /Policy binding with the specified principal, role, and condition not found!/);
  });

  it("describes a service, with --format=export showing references only", async () => {
    const described = await gcloud(env, ["run", "services", "describe", "my-private-api", REGION]);
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, new RegExp(`URL:\\s+https://my-private-api-${number}\\.us-central1\\.run\\.app`));
    assert.match(described.stdout, new RegExp(`Service account:\\s+${SA.replace(/\./g, "\\.")}`));
    const exported = await gcloud(env, ["run", "services", "describe", "my-private-api", REGION, "--format=export"]);
    assert.equal(exported.code, 0, exported.stderr);
    const doc = parseYaml(exported.stdout) as {
      kind: string;
      metadata: { name: string; annotations: Record<string, string> };
    };
    assert.equal(doc.kind, "Service");
    assert.equal(doc.metadata.name, "my-private-api");
    assert.equal(doc.metadata.annotations["serving.knative.dev/creator"], undefined);
    const missing = await gcloud(env, ["run", "services", "describe", "nosuch", REGION]);
    assert.match(missing.stderr, /Cannot find service \[nosuch\]/);
  });

  it("lists services with and without a region", async () => {
    for (const args of [
      ["run", "services", "list", "--format=value(metadata.name)"],
      ["run", "services", "list", REGION, "--format=value(metadata.name)"],
    ]) {
      const listed = await gcloud(env, args);
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(listed.stdout.trim().split("\n").sort(), ["default-sa-api", "my-private-api", "my-public-api"]);
    }
  });

  it("updates env vars (a new revision pinned to the image digest) and ingress (no new revision)", async () => {
    const envUpdate = await gcloud(env, [
      "run",
      "services",
      "update",
      "my-private-api",
      REGION,
      "--update-env-vars=GREETING=hello",
    ]);
    assert.equal(envUpdate.code, 0, envUpdate.stderr);
    const updated = await service("my-private-api");
    assert.equal(updated?.latestReadyRevision?.startsWith("my-private-api-00002-"), true);
    assert.deepEqual(updated?.template.spec.containers[0]?.env, [{ name: "GREETING", value: "hello" }]);
    assert.match(updated?.template.spec.containers[0]?.image ?? "", /@sha256:[0-9a-f]{64}$/);
    const ingress = await gcloud(env, ["run", "services", "update", "my-private-api", REGION, "--ingress=internal"]);
    assert.equal(ingress.code, 0, ingress.stderr);
    const after = await service("my-private-api");
    assert.equal(after?.annotations["run.googleapis.com/ingress"], "internal");
    assert.equal(after?.latestReadyRevision, updated?.latestReadyRevision);
    const revisions = await rg.platform.store.list<StoredRevision>(
      "revision",
      `projects/${PROJECT}/locations/us-central1/revisions/my-private-api-`,
    );
    assert.equal(revisions.length, 2);
  });

  it("--no-invoker-iam-check disables the invoker check", async () => {
    const result = await gcloud(env, [
      "run",
      "deploy",
      "open-api",
      `--image=${IMAGE}`,
      REGION,
      "--no-invoker-iam-check",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match((await service("open-api"))?.annotations["run.googleapis.com/invoker-iam-disabled"] ?? "", /^true$/i);
  });

  it("refuses to deploy as a service account the caller cannot act as", async () => {
    const grant = await gcloud(env, [
      "projects",
      "add-iam-policy-binding",
      PROJECT,
      "--member=user:dev@example.com",
      "--role=roles/run.developer",
    ]);
    assert.equal(grant.code, 0, grant.stderr);
    const devEnv = await rg.gcloudEnvFor("user:dev@example.com");
    const denied = await gcloud(devEnv, [
      "run",
      "deploy",
      "dev-api",
      `--image=${IMAGE}`,
      REGION,
      `--service-account=${SA}`,
      "--no-allow-unauthenticated",
    ]);
    assert.equal(denied.code, 1);
    assert.match(
      denied.stderr,
      new RegExp(
        `Permission 'iam.serviceaccounts.actAs' denied on service account ${SA.replace(/\./g, "\\.")} \\(or it may not exist\\)`,
      ),
    );
    assert.equal(await service("dev-api"), undefined);
    const user = await gcloud(env, [
      "iam",
      "service-accounts",
      "add-iam-policy-binding",
      SA,
      "--member=user:dev@example.com",
      "--role=roles/iam.serviceAccountUser",
    ]);
    assert.equal(user.code, 0, user.stderr);
    const allowed = await gcloud(devEnv, [
      "run",
      "deploy",
      "dev-api",
      `--image=${IMAGE}`,
      REGION,
      `--service-account=${SA}`,
      "--no-allow-unauthenticated",
    ]);
    assert.equal(allowed.code, 0, allowed.stderr);
  });

  it("rejects an unknown image the way Cloud Run does", async () => {
    const result = await gcloud(env, [
      "run",
      "deploy",
      "bad-image",
      "--image=gcr.io/nope/nope",
      REGION,
      "--no-allow-unauthenticated",
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Image 'gcr.io\/nope\/nope' not found/);
  });

  it("deletes a service", async () => {
    const result = await gcloud(env, ["run", "services", "delete", "my-public-api", REGION, "--quiet"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Deleted service \[my-public-api\]/);
    assert.equal(await service("my-public-api"), undefined);
    const again = await gcloud(env, ["run", "services", "delete", "my-public-api", REGION, "--quiet"]);
    assert.match(again.stderr, /Service \[my-public-api\] could not be found/);
  });

  it("records deploys in the audit log as google.cloud.run.v1.Services.CreateService", async () => {
    const logs = await rg.platform.store.readLogs({
      logNamePrefix: `projects/${PROJECT}/logs/cloudaudit.googleapis.com%2Factivity`,
      limit: 500,
    });
    const creates = logs.filter(
      (r) =>
        (r.entry["protoPayload"] as { methodName: string }).methodName === "google.cloud.run.v1.Services.CreateService",
    );
    assert.ok(creates.length >= 4);
    assert.equal(
      (creates.at(-1)?.entry["protoPayload"] as { authenticationInfo: { principalEmail: string } }).authenticationInfo
        .principalEmail,
      OWNER,
    );
  });
});
