import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { fixedClock } from "../core/clock.js";
import { createIapSessions, parseCookies, withoutIapCookies } from "./iap-session.js";

describe("IAP sessions", () => {
  it("a session names its user for its own resource only, and expires after an hour", async () => {
    const clock = fixedClock(Date.UTC(2026, 0, 1));
    const sessions = createIapSessions(randomBytes(32), clock);
    const token = await sessions.issue("alice@example.com", "projects/p/iap_web/compute/services/a");
    assert.equal(await sessions.verify(token, "projects/p/iap_web/compute/services/a"), "alice@example.com");
    assert.equal(await sessions.verify(token, "projects/p/iap_web/compute/services/b"), undefined);
    const other = createIapSessions(randomBytes(32), clock);
    assert.equal(await other.verify(token, "projects/p/iap_web/compute/services/a"), undefined, "another key");
    clock.advance(3601_000);
    assert.equal(await sessions.verify(token, "projects/p/iap_web/compute/services/a"), undefined);
  });

  it("a login finishes once and only before it expires", () => {
    const clock = fixedClock(0);
    const sessions = createIapSessions(randomBytes(32), clock);
    const login = sessions.beginLogin({ resource: "r", returnTo: "/x", codeVerifier: "v" });
    assert.equal(sessions.finishLogin(login.nonce)?.returnTo, "/x");
    assert.equal(sessions.finishLogin(login.nonce), undefined);
    const late = sessions.beginLogin({ resource: "r", returnTo: "/", codeVerifier: "v" });
    clock.advance(10 * 60_000 + 1);
    assert.equal(sessions.finishLogin(late.nonce), undefined);
  });

  it("the application never gets IAP's cookies", () => {
    const header = "a=1; __Host-GCP_IAP_AUTH_TOKEN_12=secret; GCP_IAP_XSRF_NONCE_ab=1; b=2";
    assert.equal(withoutIapCookies(header), "a=1; b=2");
    assert.equal(withoutIapCookies("GCP_IAP_AUTH_TOKEN_1=x"), undefined);
    assert.equal(parseCookies(header).get("b"), "2");
  });
});
