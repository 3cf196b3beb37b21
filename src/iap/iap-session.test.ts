import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { fixedClock } from "../core/clock.js";
import { MAX_RETURN_PATH_LENGTH, createIapSessions, parseCookies, withoutIapCookies } from "./iap-session.js";

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

  it("pending logins are capped by count and by bytes, the oldest dropped first", () => {
    const clock = fixedClock(0);
    const sessions = createIapSessions(randomBytes(32), clock, { maxCount: 3, maxBytes: 1_000_000 });
    const logins = [1, 2, 3, 4, 5].map((n) =>
      sessions.beginLogin({ resource: "r", returnTo: `/${n}`, codeVerifier: "v" }),
    );
    assert.equal(sessions.pendingLogins().count, 3);
    assert.equal(sessions.finishLogin(logins[0]!.nonce), undefined, "the oldest was dropped");
    assert.equal(sessions.finishLogin(logins[1]!.nonce), undefined);
    assert.equal(sessions.finishLogin(logins[4]!.nonce)?.returnTo, "/5", "the newest is kept");

    const bySize = createIapSessions(randomBytes(32), clock, { maxCount: 1000, maxBytes: 4000 });
    for (let n = 0; n < 200; n++)
      bySize.beginLogin({ resource: "r", returnTo: `/${"p".repeat(500)}`, codeVerifier: "v" });
    const { count, bytes } = bySize.pendingLogins();
    assert.ok(bytes <= 4000 && count >= 1 && count < 5, `${count} logins, ${bytes} bytes`);
  });

  it("a path too long to remember returns to the root after sign-in", () => {
    const sessions = createIapSessions(randomBytes(32), fixedClock(0));
    const kept = sessions.beginLogin({
      resource: "r",
      returnTo: `/${"a".repeat(MAX_RETURN_PATH_LENGTH - 1)}`,
      codeVerifier: "v",
    });
    assert.equal(kept.returnTo.length, MAX_RETURN_PATH_LENGTH);
    const long = sessions.beginLogin({
      resource: "r",
      returnTo: `/${"a".repeat(MAX_RETURN_PATH_LENGTH)}`,
      codeVerifier: "v",
    });
    assert.equal(sessions.finishLogin(long.nonce)?.returnTo, "/");
  });

  it("expired logins are forgotten as new ones arrive", () => {
    const clock = fixedClock(0);
    const sessions = createIapSessions(randomBytes(32), clock);
    for (let n = 0; n < 50; n++) sessions.beginLogin({ resource: "r", returnTo: "/", codeVerifier: "v" });
    clock.advance(10 * 60_000 + 1);
    sessions.beginLogin({ resource: "r", returnTo: "/", codeVerifier: "v" });
    assert.equal(sessions.pendingLogins().count, 1);
  });

  it("the application never gets IAP's cookies", () => {
    const header = "a=1; __Host-GCP_IAP_AUTH_TOKEN_12=secret; GCP_IAP_XSRF_NONCE_ab=1; b=2";
    assert.equal(withoutIapCookies(header), "a=1; b=2");
    assert.equal(withoutIapCookies("GCP_IAP_AUTH_TOKEN_1=x"), undefined);
    assert.equal(parseCookies(header).get("b"), "2");
  });
});
