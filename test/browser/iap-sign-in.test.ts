// IAP's browser flow in a real headless Chromium, over HTTPS with a certificate from runguard's local CA: the
// redirect to sign in, a wrong password, the session cookie, the app verifying IAP's signed header with
// google-auth-library and jose, sign-out, and a signed-in user without the IAP role getting IAP's 403 page.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { gcloud } from "../helpers/gcloud.js";
import { setUpIapApp, type IapSetup } from "../helpers/iap-setup.js";
import { launchChromium } from "../helpers/browser.js";
import { setUserPassword } from "../../src/accounts/user-passwords.js";

const DOMAIN = "app.example.test";

describe("IAP sign-in in a browser", () => {
  let rg: TestRunguard;
  let setup: IapSetup;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let appUrl = "";
  let signInOrigin = "";

  const signIn = async (email: string, password: string) => {
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', password);
    await Promise.all([page.waitForLoadState("load"), page.click("#sign-in")]);
  };

  before(async () => {
    rg = await startTestRunguard();
    setup = await setUpIapApp(rg, DOMAIN);
    const grant = await gcloud(setup.env, [
      "projects",
      "add-iam-policy-binding",
      rg.endpoints.projectId,
      "--member=user:alice@example.com",
      "--role=roles/iap.httpsResourceAccessor",
    ]);
    assert.equal(grant.code, 0, grant.stderr);
    await setUserPassword(rg.platform, "alice@example.com", "alice-password-1");
    await setUserPassword(rg.platform, "bob@example.com", "bob-password-12");
    const httpsPort = Number(new URL(rg.endpoints.loadBalancerHttps).port);
    appUrl = `https://${DOMAIN}:${httpsPort}`;
    signInOrigin = rg.endpoints.api;
    browser = await launchChromium({ mapToLoopback: [DOMAIN], trustCaFile: rg.endpoints.caCertificatePath });
    context = await browser.newContext();
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
    await rg?.stop();
  });

  it("sends a browser without a session to the sign-in page, which refuses a wrong password", async () => {
    const first = await page.goto(`${appUrl}/hello?from=browser`);
    assert.equal(first?.status(), 200);
    assert.ok(page.url().startsWith(`${signInOrigin}/o/oauth2/v2/auth?`), page.url());
    const asked = new URL(page.url()).searchParams;
    assert.equal(asked.get("client_id"), setup.backend.iap.oauth2ClientId);
    assert.equal(asked.get("redirect_uri"), `${appUrl}/_gcp_gatekeeper/authenticate`);
    assert.equal(asked.get("code_challenge_method"), "S256");
    await signIn("alice@example.com", "not-her-password");
    assert.match((await page.textContent(".error")) ?? "", /Wrong email or password/);
    assert.ok(page.url().startsWith(signInOrigin), "still on the sign-in page");
  });

  it("signs alice in and returns her to the page she asked for; the app verifies IAP's assertion", async () => {
    await signIn("alice@example.com", "alice-password-1");
    assert.equal(page.url(), `${appUrl}/hello?from=browser`);
    assert.equal(await page.textContent("#hello"), "Hello alice@example.com");
    assert.equal(await page.textContent("#verified"), "assertion verified with google-auth-library and jose");
    assert.doesNotMatch((await page.textContent("#cookies")) ?? "", /GCP_IAP/, "the app never sees IAP's cookies");
    const cookies = await context.cookies(appUrl);
    const session = cookies.find((c) => c.name === `__Host-GCP_IAP_AUTH_TOKEN_${setup.backend.id}`);
    assert.ok(session, JSON.stringify(cookies.map((c) => c.name)));
    assert.equal(session.httpOnly, true);
    assert.equal(session.secure, true);
    assert.equal(cookies.filter((c) => c.name.startsWith("GCP_IAP_XSRF_NONCE_")).length, 0, "the XSRF nonce is spent");
  });

  it("keeps the session: a second visit goes straight to the app", async () => {
    const visits: string[] = [];
    page.on("request", (request) => visits.push(request.url()));
    const again = await page.goto(`${appUrl}/again`);
    assert.equal(again?.status(), 200);
    assert.equal(await page.textContent("#hello"), "Hello alice@example.com");
    assert.deepEqual(
      visits.filter((url) => url.startsWith(signInOrigin)),
      [],
    );
    page.removeAllListeners("request");
  });

  it("a forged session cookie is worthless", async () => {
    const other = await browser.newContext();
    const url = new URL(appUrl);
    await other.addCookies([
      {
        name: `__Host-GCP_IAP_AUTH_TOKEN_${setup.backend.id}`,
        value: "eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIn0.forged",
        domain: url.hostname,
        path: "/",
        secure: true,
        httpOnly: true,
      },
    ]);
    const forged = await other.newPage();
    await forged.goto(`${appUrl}/`);
    assert.ok(forged.url().startsWith(`${signInOrigin}/o/oauth2/v2/auth?`), forged.url());
    await other.close();
  });

  it("signs out, then bob (signed in, without the IAP role) gets IAP's 403 page", async () => {
    await page.goto(`${appUrl}/_gcp_iap/clear_login_cookie`);
    assert.match(await page.content(), /signed out/);
    await page.goto(`${appUrl}/hello`);
    assert.ok(page.url().startsWith(signInOrigin), "signed out: back to sign in");
    await signIn("bob@example.com", "bob-password-12");
    const denied = await page.goto(`${appUrl}/hello`);
    assert.equal(denied?.status(), 403);
    assert.equal(denied?.headers()["x-goog-iap-generated-response"], "true");
    assert.match(await page.content(), /You don't have access \(signed in as bob@example.com\)/);
    await page.screenshot({ path: `${rg.dataDir}/iap-403.png` });
  });

  it("audits IAP's decisions for the browser's users", async () => {
    const audit = await rg.platform.store.readLogs({
      logNamePrefix: `projects/${rg.endpoints.projectId}/logs/cloudaudit.googleapis.com%2Fdata_access`,
      limit: 100,
    });
    const decisions = audit
      .map((r) => r.entry["protoPayload"] as Record<string, unknown>)
      .filter((p) => p["serviceName"] === "iap.googleapis.com")
      .map((p) => [
        (p["authenticationInfo"] as { principalEmail: string }).principalEmail,
        (p["authorizationInfo"] as Array<{ granted: boolean }>)[0]?.granted,
      ]);
    assert.ok(decisions.some(([who, granted]) => who === "alice@example.com" && granted === true));
    assert.ok(decisions.some(([who, granted]) => who === "bob@example.com" && granted === false));
  });
});
