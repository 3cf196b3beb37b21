// The seed's IAP procedure with the real gcloud, programmatic callers (ID tokens for IAP's OAuth client):
// each troubleshooting error reproduced, then fixed by the seed's remedy; the app verifies IAP's signed header.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createLocalJWKSet, jwtVerify } from "jose";
import { gcloud } from "../helpers/gcloud.js";
import { PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { ECHO_IMAGE, FETCHER_IMAGE, registerTestImages } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";
import { assertIapRefusesAlice, mapDomain } from "../helpers/iap-setup.js";
import type { StoredBackendService } from "../../src/load-balancer/types.js";
import { analyze } from "../../src/analyzer/analyze.js";
import { liveInput } from "../../src/analyzer/sources/live.js";

const R = "--region=us-central1";
const DOMAIN = "app.example.test";

describe("IAP in front of Cloud Run", () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  let serviceUrl = "";
  let clientId = "";
  const g = async (args: string[]) => {
    const result = await gcloud(env, args);
    assert.equal(result.code, 0, `${args.join(" ")}\n${result.stderr}`);
    return result;
  };
  const tokenFor = (email: string, audience: string) => rg.idTokenFor(email, audience);
  const viaLb = (headers: Record<string, string> = {}) =>
    invokeUrl(rg.dataPlane.loadBalancerUrl, `https://${DOMAIN}`, { headers });

  before(async () => {
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
    await registerTestImages(rg);
    const deployed = await g([
      "run",
      "deploy",
      "my-app",
      `--image=${ECHO_IMAGE}`,
      R,
      "--no-allow-unauthenticated",
      "--ingress=internal-and-cloud-load-balancing",
    ]);
    serviceUrl = /Service URL: (\S+)/.exec(deployed.stderr)?.[1] ?? "";
    await g([
      "compute",
      "network-endpoint-groups",
      "create",
      "my-neg",
      R,
      "--network-endpoint-type=serverless",
      "--cloud-run-service=my-app",
    ]);
    await g([
      "compute",
      "backend-services",
      "create",
      "my-backend",
      "--global",
      "--load-balancing-scheme=EXTERNAL_MANAGED",
    ]);
    await g([
      "compute",
      "backend-services",
      "add-backend",
      "my-backend",
      "--global",
      "--network-endpoint-group=my-neg",
      "--network-endpoint-group-region=us-central1",
    ]);
    await mapDomain(rg, DOMAIN, "my-backend");
  });
  after(async () => rg.stop());

  it("without IAP the load balancer counts for internal-and-cloud-load-balancing, and IAM still applies", async () => {
    assert.equal((await viaLb()).status, 403, "Cloud Run's own check: no token");
    assert.equal(
      (await invokeUrl(rg.endpoints.frontEnd, serviceUrl)).status,
      404,
      "the run.app URL is closed by ingress",
    );
  });

  it("turns IAP on with the seed's command", async () => {
    const updated = await g(["compute", "backend-services", "update", "my-backend", "--global", "--iap=enabled"]);
    assert.match(updated.stderr, /IAP only protects requests that go through the Cloud Load Balancer/);
    clientId =
      (
        await rg.platform.store.get<StoredBackendService>(
          "backendService",
          `projects/${PROJECT}/global/backendServices/my-backend`,
        )
      )?.iap.oauth2ClientId ?? "";
    assert.match(clientId, /\.apps\.googleusercontent\.com$/);
  });

  it("answers IAP's own errors, marked x-goog-iap-generated-response", async () => {
    const empty = await viaLb();
    assert.equal(empty.status, 302, "no credentials: off to sign in, as IAP answers curl and browsers alike");
    assert.equal(empty.body, "Invalid IAP credentials: empty token");
    assert.equal(empty.headers["x-goog-iap-generated-response"], "true");
    const signIn = new URL(String(empty.headers["location"]));
    assert.equal(signIn.pathname, "/o/oauth2/v2/auth");
    assert.equal(signIn.searchParams.get("client_id"), clientId);
    assert.equal(signIn.searchParams.get("response_type"), "code");
    assert.equal(signIn.searchParams.get("scope"), "openid email");
    assert.equal(signIn.searchParams.get("redirect_uri"), `http://${DOMAIN}/_gcp_gatekeeper/authenticate`);
    assert.match(String(empty.headers["set-cookie"]), /^GCP_IAP_XSRF_NONCE_[0-9a-f]+=1; .*HttpOnly/);
    await assertIapRefusesAlice(viaLb, tokenFor, clientId, serviceUrl);
  });

  it("reproduces the seed's troubleshooting cases, then fixes them with the seed's remedies", async () => {
    await g([
      "projects",
      "add-iam-policy-binding",
      PROJECT,
      "--member=user:alice@example.com",
      "--role=roles/iap.httpsResourceAccessor",
    ]);
    const headers = { authorization: `Bearer ${await tokenFor("alice@example.com", clientId)}` };
    const notProvisioned = await viaLb(headers);
    assert.equal(notProvisioned.status, 500);
    assert.match(notProvisioned.body, /The IAP service account is not provisioned/);
    await g(["beta", "services", "identity", "create", "--service=iap.googleapis.com", `--project=${PROJECT}`]);
    const noInvoker = await viaLb(headers);
    assert.equal(noInvoker.status, 403);
    assert.match(noInvoker.body, /Your client does not have permission to get URL/);
    const agent = `service-${rg.endpoints.projectNumber}@gcp-sa-iap.iam.gserviceaccount.com`;
    await g([
      "run",
      "services",
      "add-iam-policy-binding",
      "my-app",
      R,
      `--member=serviceAccount:${agent}`,
      "--role=roles/run.invoker",
    ]);
    const ok = await viaLb({ ...headers, "x-goog-authenticated-user-email": "accounts.google.com:admin@example.com" });
    assert.equal(ok.status, 200, ok.body);
    const echo = JSON.parse(ok.body) as { headers: Record<string, string> };
    assert.equal(
      echo.headers["x-goog-authenticated-user-email"],
      "accounts.google.com:alice@example.com",
      "the forged header was replaced",
    );
    assert.match(echo.headers["x-serverless-authorization"] ?? "", /^bearer .+\.SIGNATURE_REMOVED_BY_GOOGLE$/);
    const jwks = (await (await fetch(`${rg.endpoints.api}/iap/verify/public_key-jwk`)).json()) as { keys: [] };
    const { payload, protectedHeader } = await jwtVerify(
      echo.headers["x-goog-iap-jwt-assertion"] ?? "",
      createLocalJWKSet(jwks),
      {
        issuer: "https://cloud.google.com/iap",
        audience: `/projects/${rg.endpoints.projectNumber}/global/backendServices/${(await rg.platform.store.get<StoredBackendService>("backendService", `projects/${PROJECT}/global/backendServices/my-backend`))?.id}`,
      },
    );
    assert.equal(protectedHeader.alg, "ES256");
    assert.equal(payload["email"], "alice@example.com");
    const forgedForOtherBackend = jwtVerify(echo.headers["x-goog-iap-jwt-assertion"] ?? "", createLocalJWKSet(jwks), {
      issuer: "https://cloud.google.com/iap",
      audience: "/projects/1/global/backendServices/2",
    });
    await assert.rejects(forgedForOtherBackend, "an assertion replayed for another backend fails");
    const audit = await rg.platform.store.readLogs({
      logNamePrefix: `projects/${PROJECT}/logs/cloudaudit.googleapis.com%2Fdata_access`,
      limit: 100,
    });
    const decisions = audit
      .map((r) => r.entry["protoPayload"] as { serviceName: string; authorizationInfo: Array<{ granted: boolean }> })
      .filter((p) => p.serviceName === "iap.googleapis.com");
    assert.ok(
      decisions.some((p) => p.authorizationInfo[0]?.granted === true) &&
        decisions.some((p) => p.authorizationInfo[0]?.granted === false),
      "IAP decisions are audited",
    );
  });

  it("grants access on one backend service with gcloud iap web add-iam-policy-binding", async () => {
    const bob = async () =>
      (await viaLb({ authorization: `Bearer ${await tokenFor("bob@example.com", clientId)}` })).status;
    assert.equal(await bob(), 403);
    const iapWeb = ["--resource-type=backend-services", "--service=my-backend"];
    const added = await g([
      "iap",
      "web",
      "add-iam-policy-binding",
      ...iapWeb,
      "--member=user:bob@example.com",
      "--role=roles/iap.httpsResourceAccessor",
    ]);
    assert.match(
      added.stderr,
      new RegExp(
        `Updated IAM policy for backend service \\[projects/${rg.endpoints.projectNumber}/iap_web/compute/services/my-backend\\]`,
      ),
    );
    assert.equal(await bob(), 200);
    const shown = await g(["iap", "web", "get-iam-policy", ...iapWeb, "--format=json"]);
    assert.deepEqual((JSON.parse(shown.stdout) as { bindings: Array<{ role: string; members: string[] }> }).bindings, [
      { role: "roles/iap.httpsResourceAccessor", members: ["user:bob@example.com"] },
    ]);
    const elsewhere = await gcloud(await rg.gcloudEnvFor("user:bob@example.com"), [
      "iap",
      "web",
      "add-iam-policy-binding",
      ...iapWeb,
      "--member=user:bob@example.com",
      "--role=roles/iap.admin",
    ]);
    assert.notEqual(elsewhere.code, 0, "bob cannot change IAP's policy");
    assert.match(elsewhere.stderr, /PERMISSION_DENIED|does not have permission/);
    await g([
      "iap",
      "web",
      "remove-iam-policy-binding",
      ...iapWeb,
      "--member=user:bob@example.com",
      "--role=roles/iap.httpsResourceAccessor",
    ]);
    assert.equal(await bob(), 403);
  });

  it("inside instances, Google's well-known key URLs answer with runguard's keys", async () => {
    const fetcher = await g(["run", "deploy", "key-fetcher", `--image=${FETCHER_IMAGE}`, R, "--allow-unauthenticated"]);
    const url = /Service URL: (\S+)/.exec(fetcher.stderr)?.[1] ?? "";
    for (const [keysUrl, expectKid] of [
      ["https://www.gstatic.com/iap/verify/public_key-jwk", true],
      ["https://www.googleapis.com/oauth2/v3/certs", true],
      ["https://www.googleapis.com/oauth2/v1/certs", false],
    ] as const) {
      const reply = JSON.parse(
        (await invokeUrl(rg.endpoints.frontEnd, url, { path: `/?url=${encodeURIComponent(keysUrl)}` })).body,
      ) as { status: number; body: string };
      assert.equal(reply.status, 200, keysUrl);
      if (expectKid) assert.match(reply.body, /"kid"/, keysUrl);
      else assert.match(reply.body, /BEGIN CERTIFICATE/, keysUrl); // X.509, as Google serves v1 certs
    }
  });

  it("the seed's known limitation: with ingress all, the run.app URL bypasses IAP", async () => {
    await g(["run", "services", "update", "my-app", R, "--ingress=all"]);
    await g([
      "run",
      "services",
      "add-iam-policy-binding",
      "my-app",
      R,
      "--member=allUsers",
      "--role=roles/run.invoker",
    ]);
    assert.equal((await invokeUrl(rg.endpoints.frontEnd, serviceUrl)).status, 200, "anyone, straight past IAP");
    const findings = analyze(await liveInput(rg.platform.store, PROJECT)).filter((f) => f.ruleId === "RG-IAP-001");
    assert.deepEqual(
      findings.map((f) => f.resource),
      [`projects/${PROJECT}/locations/us-central1/services/my-app`],
      "runguard audit flags the bypass",
    );
    await g(["run", "services", "update", "my-app", R, "--ingress=internal-and-cloud-load-balancing"]);
    assert.equal((await invokeUrl(rg.endpoints.frontEnd, serviceUrl)).status, 404);
    assert.equal((await viaLb()).status, 302, "IAP still guards the load balancer (off to sign in)");
  });
});
