import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fixedClock } from "../core/clock.js";
import { createAuthorizationCodes, pkceChallenge } from "./authorization-codes.js";

const grant = { email: "alice@example.com", clientId: "client-1", redirectUri: "https://app.test/cb" };

describe("authorization codes", () => {
  it("redeem once, for the same client and redirect URI, with the PKCE verifier", () => {
    const codes = createAuthorizationCodes(fixedClock(0));
    const code = codes.issue({ ...grant, codeChallenge: pkceChallenge("the-verifier") });
    assert.deepEqual(codes.redeem(code, "client-2", grant.redirectUri, "the-verifier"), {
      ok: false,
      description: "Unauthorized client.",
    });
    const again = codes.issue({ ...grant, codeChallenge: pkceChallenge("the-verifier") });
    assert.equal(codes.redeem(again, grant.clientId, "https://evil.test/cb", "the-verifier").ok, false);
    const third = codes.issue({ ...grant, codeChallenge: pkceChallenge("the-verifier") });
    assert.equal(codes.redeem(third, grant.clientId, grant.redirectUri, "another-verifier").ok, false);
    const fourth = codes.issue({ ...grant, codeChallenge: pkceChallenge("the-verifier") });
    const redeemed = codes.redeem(fourth, grant.clientId, grant.redirectUri, "the-verifier");
    assert.equal(redeemed.ok && redeemed.grant.email, "alice@example.com");
    assert.equal(codes.redeem(fourth, grant.clientId, grant.redirectUri, "the-verifier").ok, false, "single use");
  });

  it("expire after a minute", () => {
    const clock = fixedClock(0);
    const codes = createAuthorizationCodes(clock);
    const code = codes.issue(grant);
    clock.advance(60_001);
    assert.equal(codes.redeem(code, grant.clientId, grant.redirectUri, undefined).ok, false);
  });

  it("PKCE S256 matches RFC 7636's example", () => {
    assert.equal(
      pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
  });
});
