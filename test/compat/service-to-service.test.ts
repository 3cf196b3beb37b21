// Service-to-service calls with Google's own libraries inside real instances: the seed's Python
// call_private_service (Cloud SDK's bundled Python and google.auth) and Node's google-auth-library
// getIdTokenClient, both unchanged, against a private service. And the seed's Flask echo app.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startTestRunguard, PROJECT, type TestRunguard } from "../helpers/runguard-instance.js";
import { deploy, registerTestImages, setInvokers } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";
import { addImage } from "../../src/run/images.js";
import { createServiceAccount } from "../../src/accounts/service-accounts.js";
import { createCallContext } from "../../src/iam/call-context.js";

const examples = (dir: string) => fileURLToPath(new URL(`../../../examples/${dir}/`, import.meta.url));
const SDK_PYTHON = "/usr/lib/google-cloud-sdk/platform/bundledpythonunix/bin/python3";
const SDK_LIBS = "/usr/lib/google-cloud-sdk/lib/third_party";

interface CallResult {
  ok: boolean;
  status?: number;
  error?: string;
  response?: { headers: Record<string, string>; body: string };
}

describe("service-to-service with Google's libraries", () => {
  let rg: TestRunguard;
  let targetUrl: string;
  const callers: Record<string, string> = {};

  const createAccount = async (id: string) => {
    const ctx = createCallContext({
      principal: { kind: "user", email: rg.platform.config.ownerEmail },
      serviceName: "iam.googleapis.com",
      decide: rg.platform.engine.decide,
    });
    return createServiceAccount(rg.platform, ctx, PROJECT, { accountId: id });
  };
  const ask = async (caller: string, target: string): Promise<CallResult> => {
    const result = await invokeUrl(rg.endpoints.frontEnd, callers[caller] ?? "", {
      path: `/?target=${encodeURIComponent(target)}`,
    });
    assert.equal(result.status, 200, result.body);
    return JSON.parse(result.body) as CallResult;
  };

  before(async () => {
    rg = await startTestRunguard();
    await registerTestImages(rg);
    await addImage(rg.platform.store, "gcr.io/runguard-tests/s2s-python", examples("s2s-python"), [
      "/usr/bin/env",
      `PYTHONPATH=${SDK_LIBS}`,
      SDK_PYTHON,
      "main.py",
    ]);
    await addImage(rg.platform.store, "gcr.io/runguard-tests/s2s-node", examples("s2s-node"), [
      process.execPath,
      "server.mjs",
    ]);
    [targetUrl] = (await deploy(rg, "target-api", {})) as [string];
    for (const lang of ["python", "node"]) {
      const account = await createAccount(`caller-${lang}-sa`);
      const [url] = (await deploy(rg, `caller-${lang}`, {
        image: `gcr.io/runguard-tests/s2s-${lang}`,
        public: true,
        serviceAccount: account.email,
      })) as [string];
      callers[lang] = url;
    }
  });
  after(async () => rg.stop());

  for (const lang of ["python", "node"]) {
    it(`${lang}: 403 without run.invoker, then the call succeeds once the caller's service account is granted it`, async () => {
      const denied = await ask(lang, targetUrl);
      assert.deepEqual(denied, { ok: false, status: 403 });
      await setInvokers(rg, "target-api", [`serviceAccount:caller-${lang}-sa@${PROJECT}.iam.gserviceaccount.com`]);
      const allowed = await ask(lang, targetUrl);
      assert.equal(allowed.ok, true, JSON.stringify(allowed));
      const echoed = allowed.response!;
      assert.deepEqual(JSON.parse(echoed.body), { from: `caller-${lang}` });
      const [, payload, signature] = (echoed.headers["authorization"] ?? "").replace(/^Bearer /, "").split(".");
      assert.equal(signature, "SIGNATURE_REMOVED_BY_GOOGLE");
      const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as Record<string, unknown>;
      assert.equal(claims["email"], `caller-${lang}-sa@${PROJECT}.iam.gserviceaccount.com`);
      assert.equal(claims["aud"], targetUrl);
      await setInvokers(rg, "target-api", []);
    });
  }

  it("a token whose audience includes a path is rejected (401)", async () => {
    await setInvokers(rg, "target-api", [`serviceAccount:caller-python-sa@${PROJECT}.iam.gserviceaccount.com`]);
    assert.deepEqual(await ask("python", `${targetUrl}/api/v1/endpoint`), { ok: false, status: 401 });
    await setInvokers(rg, "target-api", []);
  });

  it("instances cannot reach anything but run.app URLs through runguard's egress", async () => {
    const result = await ask("python", "https://www.example.com");
    assert.equal(result.ok, false);
    assert.match(result.error ?? "", /ProxyError|403|Tunnel/i);
  });
});

describe("the seed's Flask echo app", () => {
  let rg: TestRunguard;
  before(async () => {
    rg = await startTestRunguard();
    await addImage(
      rg.platform.store,
      "gcr.io/runguard-tests/flask-echo",
      examples("flask-echo"),
      ["/usr/bin/python3", "app.py"],
      8080,
    );
  });
  after(async () => rg.stop());

  it("public, it echoes for anyone; private, callers without run.invoker get 403", async () => {
    const [url] = (await deploy(rg, "my-public-service", {
      image: "gcr.io/runguard-tests/flask-echo",
      public: true,
    })) as [string];
    const echoed = await invokeUrl(rg.endpoints.frontEnd, url, {
      method: "GET",
      body: "Testing public access",
      headers: { "content-length": "21" },
    });
    assert.equal(echoed.status, 200);
    assert.equal(echoed.body, "Hello! You sent: Testing public access");
    await setInvokers(rg, "my-public-service", []);
    const denied = await invokeUrl(rg.endpoints.frontEnd, url, { method: "GET" });
    assert.equal(denied.status, 403);
  });
});
