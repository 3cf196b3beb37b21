// IAP directly on a Cloud Run service (`gcloud beta run deploy --iap`): the run.app URL itself is protected.
// gcloud grants the IAP service agent run.invoker by itself; callers need an ID token for the service's IAP
// client (or a browser session) and roles/iap.httpsResourceAccessor; the app verifies IAP's assertion, whose
// audience names the service. `--no-iap` turns it off again.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { gcloud } from "../helpers/gcloud.js";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { invokeUrl } from "../helpers/invoke.js";
import { IAP_APP_IMAGE, assertIapRefusesAlice } from "../helpers/iap-setup.js";
import { addImage } from "../../src/run/images.js";
import { setUserPassword } from "../../src/accounts/user-passwords.js";
import { serviceIapClientId } from "../../src/iap/direct-iap.js";
import { signInThroughIap } from "../../examples/demo/demo-browser.js";

const R = "--region=us-central1";
const examples = (dir: string) => fileURLToPath(new URL(`../../../examples/${dir}/`, import.meta.url));

describe("IAP directly on a Cloud Run service", () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  let url = "";
  let clientId = "";
  /** A genuine IAP assertion, but for a backend service, replayed against this service. */
  let assertionForAnotherBackend = "";
  const g = async (args: string[]) => {
    const result = await gcloud(env, args);
    assert.equal(result.code, 0, `${args.join(" ")}\n${result.stderr}`);
    return result;
  };
  const idToken = (email: string, audience: string) => rg.idTokenFor(email, audience);
  const call = (headers: Record<string, string> = {}) => invokeUrl(rg.endpoints.frontEnd, url, { headers });

  before(async () => {
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
    await addImage(rg.platform.store, IAP_APP_IMAGE, examples("iap-app"), [process.execPath, "server.mjs"]);
    await g(["beta", "services", "identity", "create", "--service=iap.googleapis.com", `--project=${PROJECT}`]);
    clientId = serviceIapClientId(rg.endpoints.projectNumber, "us-central1", "direct-app");
    assertionForAnotherBackend = await rg.iapSigner.sign({
      aud: `/projects/${rg.endpoints.projectNumber}/global/backendServices/1234`,
      email: "alice@example.com",
      sub: "accounts.google.com:1",
    });
  });
  after(async () => rg.stop());

  it("deploys with --iap; gcloud grants the IAP service agent run.invoker", async () => {
    const audience = `/projects/${rg.endpoints.projectNumber}/locations/us-central1/services/direct-app`;
    const deployed = await g([
      "beta",
      "run",
      "deploy",
      "direct-app",
      `--image=${IAP_APP_IMAGE}`,
      R,
      "--iap",
      "--no-allow-unauthenticated",
      `--set-env-vars=IAP_AUDIENCE=${audience}`,
    ]);
    url = /Service URL: (\S+)/.exec(deployed.stderr)?.[1] ?? "";
    assert.match(url, /^https:\/\/direct-app-/);
    const policy = await g(["run", "services", "get-iam-policy", "direct-app", R, "--format=json"]);
    assert.match(policy.stdout, new RegExp(`service-${rg.endpoints.projectNumber}@gcp-sa-iap`));
    const described = await g(["run", "services", "describe", "direct-app", R, "--format=export"]);
    assert.match(described.stdout, /run.googleapis.com\/iap-enabled: 'true'/);
  });

  it("guards the run.app URL: sign-in redirect, IAP's 401s, then IAP's 403 without the role", async () => {
    const none = await call();
    assert.equal(none.status, 302);
    assert.equal(none.headers["x-goog-iap-generated-response"], "true");
    assert.equal(new URL(String(none.headers["location"])).searchParams.get("client_id"), clientId);
    await assertIapRefusesAlice(call, idToken, clientId, url);
  });

  it("lets alice in once she has roles/iap.httpsResourceAccessor; the app verifies the service-scoped assertion", async () => {
    await g([
      "projects",
      "add-iam-policy-binding",
      PROJECT,
      "--member=user:alice@example.com",
      "--role=roles/iap.httpsResourceAccessor",
    ]);
    const spoofed = await call({
      authorization: `Bearer ${await idToken("alice@example.com", clientId)}`,
      "x-goog-iap-jwt-assertion": "forged",
      "x-goog-authenticated-user-email": "accounts.google.com:mallory@example.com",
    });
    assert.equal(spoofed.status, 200, spoofed.body);
    assert.match(spoofed.body, /Hello alice@example.com/);
    await setUserPassword(rg.platform, "alice@example.com", "alice-password-1");
    assert.equal(
      await signInThroughIap(rg.endpoints.frontEnd, new URL(url).host, "alice@example.com", "alice-password-1"),
      200,
      "the browser flow works on the run.app URL too",
    );
  });

  it("a Python app verifies the assertion with Google's own sample (google.oauth2.id_token.verify_token)", async () => {
    await addImage(rg.platform.store, "gcr.io/runguard-examples/iap-app-python", examples("iap-app-python"), [
      "/usr/bin/env",
      "PYTHONPATH=/usr/lib/google-cloud-sdk/lib/third_party",
      "/usr/lib/google-cloud-sdk/platform/bundledpythonunix/bin/python3",
      "main.py",
    ]);
    const audience = `/projects/${rg.endpoints.projectNumber}/locations/us-central1/services/direct-py`;
    const deployed = await g([
      "beta",
      "run",
      "deploy",
      "direct-py",
      "--image=gcr.io/runguard-examples/iap-app-python",
      R,
      "--iap",
      "--no-allow-unauthenticated",
      `--set-env-vars=IAP_AUDIENCE=${audience}`,
    ]);
    const pyUrl = /Service URL: (\S+)/.exec(deployed.stderr)?.[1] ?? "";
    const token = await idToken(
      "alice@example.com",
      serviceIapClientId(rg.endpoints.projectNumber, "us-central1", "direct-py"),
    );
    const answered = await invokeUrl(rg.endpoints.frontEnd, pyUrl, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(answered.status, 200, answered.body);
    assert.equal(answered.body, "Hello alice@example.com (verified by google.auth)\n");
  });

  it("grants access on the service alone with gcloud beta iap web --resource-type=cloud-run", async () => {
    const carol = async () =>
      (await call({ authorization: `Bearer ${await idToken("carol@example.com", clientId)}` })).status;
    assert.equal(await carol(), 403);
    await g([
      "beta",
      "iap",
      "web",
      "add-iam-policy-binding",
      "--resource-type=cloud-run",
      "--service=direct-app",
      R,
      "--member=user:carol@example.com",
      "--role=roles/iap.httpsResourceAccessor",
    ]);
    assert.equal(await carol(), 200);
  });

  it("--no-iap turns it off: Cloud Run's own IAM check answers again", async () => {
    await g(["beta", "run", "services", "update", "direct-app", R, "--no-iap"]);
    const none = await call();
    assert.equal(none.status, 403);
    assert.equal(none.headers["x-goog-iap-generated-response"], undefined);
    const owner = await idToken(OWNER, url);
    const bypass = await call({
      authorization: `Bearer ${owner}`,
      "x-goog-iap-jwt-assertion": assertionForAnotherBackend,
      "x-goog-authenticated-user-email": "accounts.google.com:alice@example.com",
    });
    // The front end drops client-sent identity headers; the app, verifying as Google documents, refuses too.
    assert.equal(bypass.status, 401, "the app refuses a request that did not come through IAP");
    assert.match(bypass.body, /^Unverified request/);
  });
});
