// IAM Conditions through the real gcloud: what Google refuses is refused with its 400 and never stored, and
// a condition using matches() (RE2) still grants, in bounded time even for a pathological pattern.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { gcloud } from "../helpers/gcloud.js";
import { PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";

const IMAGE = "us-docker.pkg.dev/cloudrun/container/hello";
const REGION = "--region=us-central1";
const SERVICE = "cond-api";
const RESOURCE = `projects/${PROJECT}/locations/us-central1/services/${SERVICE}`;
const CALLER = `caller@${PROJECT}.iam.gserviceaccount.com`;

describe("IAM conditions through gcloud run services add-iam-policy-binding", () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  const caller = { kind: "serviceAccount" as const, email: CALLER };
  const addBinding = (condition: string) =>
    gcloud(env, [
      "run",
      "services",
      "add-iam-policy-binding",
      SERVICE,
      `--member=serviceAccount:${CALLER}`,
      "--role=roles/run.invoker",
      `--condition=${condition}`,
      REGION,
    ]);
  const storedPolicy = async () => {
    const result = await gcloud(env, ["run", "services", "get-iam-policy", SERVICE, REGION, "--format=json"]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as { bindings?: Array<{ role: string; members: string[] }> };
  };

  before(async () => {
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
    const created = await gcloud(env, ["iam", "service-accounts", "create", "caller"]);
    assert.equal(created.code, 0, created.stderr);
    const deployed = await gcloud(env, [
      "run",
      "deploy",
      SERVICE,
      `--image=${IMAGE}`,
      REGION,
      "--no-allow-unauthenticated",
    ]);
    assert.equal(deployed.code, 0, deployed.stderr);
  });
  after(async () => rg.stop());

  for (const [what, expression] of [
    ["a non-boolean expression", "1 + 1"],
    ["an unknown function", "evil()"],
    ["a backreference, which RE2 does not have", 'resource.name.matches("(a)\\\\1")'],
  ] as const) {
    it(`refuses ${what} with Google's 400 and stores nothing`, async () => {
      const before = await storedPolicy();
      const result = await addBinding(`expression=${expression},title=t`);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /INVALID_ARGUMENT: Condition expression compilation failed\./);
      assert.deepEqual(await storedPolicy(), before);
      assert.equal(rg.platform.engine.decide(caller, "run.routes.invoke", RESOURCE).allowed, false);
    });
  }

  it("a pathological pattern is accepted (it is valid RE2), grants nothing, and decides in microseconds", async () => {
    const result = await addBinding('expression=resource.name.matches("^(a+)+$"),title=redos');
    assert.equal(result.code, 0, result.stderr);
    const started = performance.now();
    const decision = rg.platform.engine.decide(caller, "run.routes.invoke", RESOURCE);
    assert.ok(performance.now() - started < 50);
    assert.equal(decision.allowed, false);
  });

  it("a valid RE2 condition grants", async () => {
    const result = await addBinding(`expression=resource.name.matches("/services/${SERVICE}$"),title=this-service`);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Updated IAM policy for service \[cond-api\]\./);
    const decision = rg.platform.engine.decide(caller, "run.routes.invoke", RESOURCE);
    assert.equal(decision.allowed, true);
    assert.equal(decision.grant?.condition?.title, "this-service");
  });
});
