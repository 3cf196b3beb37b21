// The sign-in page refuses password guessing at speed: 5 failures per user and 20 per client address within
// 5 minutes, then 429 with Retry-After and a page saying when to try again; raw HTTP from a real client.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { setUpIapApp } from "../helpers/iap-setup.js";
import { setUserPassword } from "../../src/accounts/user-passwords.js";

const DOMAIN = "throttle.example.test";

describe("sign-in rate limits", () => {
  let rg: TestRunguard;
  let clientId = "";
  const signIn = async (email: string, password: string) => {
    const response = await fetch(`${rg.endpoints.api}/o/oauth2/v2/auth`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: clientId,
        redirect_uri: `http://${DOMAIN}/_gcp_gatekeeper/authenticate`,
        response_type: "code",
        email,
        password,
      }),
    });
    return { status: response.status, retryAfter: response.headers.get("retry-after"), body: await response.text() };
  };

  before(async () => {
    rg = await startTestRunguard();
    clientId = (await setUpIapApp(rg, DOMAIN)).backend.iap.oauth2ClientId;
    await setUserPassword(rg.platform, "alice@example.com", "alice-password-1");
    await setUserPassword(rg.platform, "bob@example.com", "bob-password-12");
  });
  after(async () => rg.stop());

  it("after 5 wrong passwords for a user, even the right one gets 429 with Retry-After", async () => {
    for (let i = 0; i < 5; i += 1) assert.equal((await signIn("alice@example.com", `guess-${i}`)).status, 401);
    const blocked = await signIn("alice@example.com", "alice-password-1");
    assert.equal(blocked.status, 429);
    const seconds = Number(blocked.retryAfter);
    assert.ok(seconds > 0 && seconds <= 300, String(blocked.retryAfter));
    assert.match(blocked.body, /Too many failed sign-in attempts/);
    assert.match(blocked.body, /Try again after <time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">/);
  });

  it("another user still signs in from the same address, until the address reaches 20 failures", async () => {
    assert.equal((await signIn("bob@example.com", "bob-password-12")).status, 302);
    // 5 failures so far (alice's); 15 more across other emails reach the address's 20.
    for (let i = 0; i < 15; i += 1) assert.equal((await signIn(`user${i}@example.com`, "wrong")).status, 401);
    const blocked = await signIn("bob@example.com", "bob-password-12");
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.retryAfter) > 0);
  });
});
