// IAP's browser sign-in through a team's own OpenID Connect provider instead of runguard's page: panva's
// oidc-provider (the library inside many production identity providers) stands in for Keycloak or Dex, on
// loopback. Chromium signs in there; runguard exchanges the code with the client secret, verifies the ID token
// against the provider's JWKS and applies IAM to the email it names.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import type { Browser, Page } from "playwright-core";
import { startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { gcloud } from "../helpers/gcloud.js";
import { setUpIapApp, type IapSetup } from "../helpers/iap-setup.js";
import { launchChromium } from "../helpers/browser.js";

const DOMAIN = "team-app.example.test";
const CLIENT_ID = "runguard-iap";
const CLIENT_SECRET = "a-secret-only-runguard-and-the-provider-know";

describe("IAP sign-in with a team's OIDC provider", () => {
  let rg: TestRunguard;
  let setup: IapSetup;
  let idp: Server;
  let issuer = "";
  let browser: Browser;
  let page: Page;
  let appUrl = "";

  before(async () => {
    idp = createServer();
    await new Promise<void>((resolve) => idp.listen(0, "127.0.0.1", resolve));
    issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    rg = await startTestRunguard({ oidc: { issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } });
    setup = await setUpIapApp(rg, DOMAIN);
    appUrl = `https://${DOMAIN}:${new URL(rg.endpoints.loadBalancerHttps).port}`;
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: [`${appUrl}/_gcp_gatekeeper/authenticate`],
          token_endpoint_auth_method: "client_secret_post",
          grant_types: ["authorization_code"],
          response_types: ["code"],
        },
      ],
      claims: { email: ["email", "email_verified"] },
      conformIdTokenClaims: false,
      cookies: { keys: ["oidc-test-cookie-key"] },
      findAccount: async (_ctx, id) => ({
        accountId: id,
        claims: async () => ({ sub: id, email: `${id}@team.example`, email_verified: true }),
      }),
    });
    idp.on("request", provider.callback());
    browser = await launchChromium({ mapToLoopback: [DOMAIN], trustCaFile: rg.endpoints.caCertificatePath });
    page = await (await browser.newContext()).newPage();
  });
  after(async () => {
    await browser?.close();
    await rg?.stop();
    idp?.close();
    idp?.closeAllConnections();
  });

  it("sends the browser to the team's provider, and applies IAM to the email it vouches for", async () => {
    await page.goto(`${appUrl}/hello`);
    assert.ok(page.url().startsWith(`${issuer}/`), `at the team's provider: ${page.url()}`);
    await page.fill('input[name="login"]', "carol");
    await page.fill('input[name="password"]', "anything");
    await Promise.all([
      page.waitForURL((url) => !url.pathname.endsWith("/login")),
      page.click('button[type="submit"]'),
    ]);
    if (page.url().startsWith(issuer)) {
      // The provider asks for consent the first time.
      await Promise.all([page.waitForLoadState("load"), page.click('button[type="submit"]')]);
    }
    await page.waitForURL(`${appUrl}/hello`);
    assert.match(await page.content(), /You don't have access \(signed in as carol@team.example\)/);

    const grant = await gcloud(setup.env, [
      "projects",
      "add-iam-policy-binding",
      rg.endpoints.projectId,
      "--member=user:carol@team.example",
      "--role=roles/iap.httpsResourceAccessor",
    ]);
    assert.equal(grant.code, 0, grant.stderr);
    await page.reload();
    assert.equal(await page.textContent("#hello"), "Hello carol@team.example");
    assert.equal(await page.textContent("#verified"), "assertion verified with google-auth-library and jose");
  });

  it("never puts the client secret in a log or an audit entry", async () => {
    await rg.dataPlane.flushLogs();
    const logs = await rg.platform.store.readLogs({ limit: 10_000 });
    assert.ok(logs.length > 0);
    assert.doesNotMatch(JSON.stringify(logs), new RegExp(CLIENT_SECRET));
  });
});
