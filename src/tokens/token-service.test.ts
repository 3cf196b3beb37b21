import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac, createPublicKey, randomBytes } from "node:crypto";
import { OAuth2Client } from "google-auth-library";
import { createTokenService } from "./token-service.js";
import { createMemoryStore } from "../store/memory-store.js";
import { fixedClock } from "../core/clock.js";
import { SignJWT } from "jose";
import { createKeyRing } from "./key-ring.js";
import { createEnvelope } from "../secrets/envelope.js";

const AUD = "https://api-123456789012.us-central1.run.app";
const sa = { kind: "serviceAccount" as const, email: "caller@p.iam.gserviceaccount.com" };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function setup() {
  const clock = fixedClock(Date.parse("2026-11-23T00:00:00Z"));
  const tokens = createTokenService({
    store: createMemoryStore(),
    clock,
    resolveSubject: (sub) => (sub === "111" ? sa : undefined),
  });
  const mint = (audience = AUD, includeEmail = true) =>
    tokens.signIdToken({ principal: sa, uniqueId: "111", audience, includeEmail });
  const verify = (token: string) => tokens.verifyIdToken(token, (aud) => aud === AUD);
  return { clock, tokens, mint, verify };
}

describe("ID tokens", () => {
  it("carry Google's claims exactly", async () => {
    const { mint, verify, clock } = setup();
    const token = await mint();
    const [header, payload] = token
      .split(".")
      .slice(0, 2)
      .map((s) => JSON.parse(Buffer.from(s, "base64url").toString()));
    assert.equal(header.alg, "RS256");
    assert.match(header.kid, /^[0-9a-f]{40}$/);
    const iat = Math.floor(clock.now() / 1000);
    assert.deepEqual(payload, {
      iss: "https://accounts.google.com",
      aud: AUD,
      azp: "111",
      sub: "111",
      email: sa.email,
      email_verified: true,
      iat,
      exp: iat + 3600,
    });
    const verdict = await verify(token);
    assert.equal(verdict.ok && verdict.principal.email, sa.email);
  });

  it("without the email claim, the subject is resolved", async () => {
    const { mint, verify } = setup();
    const verdict = await verify(await mint(AUD, false));
    assert.equal(verdict.ok && verdict.principal.email, sa.email);
  });

  it("rejects every kind of bad token with a reason, never throwing", async () => {
    const { mint, verify, tokens, clock } = setup();
    const good = await mint();
    const [h, p] = good.split(".");
    const pem = (await tokens.pemCerts())[JSON.parse(Buffer.from(h!, "base64url").toString()).kid]!;
    const hmacHeader = b64({ alg: "HS256", typ: "JWT", kid: JSON.parse(Buffer.from(h!, "base64url").toString()).kid });
    const hs256 = `${hmacHeader}.${p}.${createHmac("sha256", pem).update(`${hmacHeader}.${p}`).digest("base64url")}`;
    const access = (await tokens.issueAccessToken({ principal: sa, scopes: ["x"] })).token;
    const cases: Array<[string, string, string]> = [
      ["garbage", "not-a-token", "malformed"],
      ["truncated", good.slice(0, good.length - 20), "bad_signature"],
      ["oversized", "a".repeat(100_000), "malformed"],
      ["alg none", `${b64({ alg: "none", typ: "JWT" })}.${p}.`, "wrong_algorithm"],
      ["HS256 signed with the public key", hs256, "wrong_algorithm"],
      [
        "unknown kid",
        `${b64({ alg: "RS256", typ: "JWT", kid: "f".repeat(40) })}.${p}.${good.split(".")[2]}`,
        "unknown_kid",
      ],
      [
        "tampered payload",
        `${h}.${b64({ ...JSON.parse(Buffer.from(p!, "base64url").toString()), email: "admin@p.iam.gserviceaccount.com" })}.${good.split(".")[2]}`,
        "bad_signature",
      ],
      ["access token given as ID token", access, "not_an_id_token"],
      ["access token without its prefix", access.slice(5), "not_an_id_token"],
      ["wrong audience", await mint("https://other.example"), "wrong_audience"],
      ["audience with a path", await mint(`${AUD}/api/v1`), "wrong_audience"],
    ];
    for (const [name, token, reason] of cases) {
      const verdict = await verify(token);
      assert.deepEqual(verdict, { ok: false, reason }, name);
    }
    clock.advance(3601_000);
    assert.deepEqual(await verify(good), { ok: false, reason: "expired" }, "expired");
  });

  it("an ID token without exp (or iat) is refused, even signed with runguard's own key", async () => {
    const clock = fixedClock(Date.parse("2026-11-23T00:00:00Z"));
    const store = createMemoryStore();
    const envelope = createEnvelope(randomBytes(32));
    const tokens = createTokenService({ store, clock, envelope });
    await tokens.signIdToken({ principal: sa, uniqueId: "111", audience: AUD, includeEmail: true });
    // The same store and key-encryption key give the same signing key, as a copy of the data directory would.
    const key = await createKeyRing(store, clock, 13 * 3600_000, envelope).current();
    const iat = Math.floor(clock.now() / 1000);
    const claims = { iss: "https://accounts.google.com", aud: AUD, sub: "111", email: sa.email };
    const signed = (build: (jwt: SignJWT) => SignJWT) =>
      build(new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" })).sign(key.privateKey);
    const verify = (token: string) => tokens.verifyIdToken(token, (aud) => aud === AUD);
    assert.equal((await verify(await signed((jwt) => jwt.setIssuedAt(iat).setExpirationTime(iat + 60)))).ok, true);
    assert.deepEqual(await verify(await signed((jwt) => jwt.setIssuedAt(iat))), { ok: false, reason: "malformed" });
    assert.deepEqual(await verify(await signed((jwt) => jwt.setExpirationTime(iat + 60))), {
      ok: false,
      reason: "malformed",
    });
  });

  it("tokens from another issuer fail", async () => {
    const { verify } = setup();
    const other = createTokenService({
      store: createMemoryStore(),
      clock: fixedClock(Date.parse("2026-11-23T00:00:00Z")),
    });
    const foreign = await other.signIdToken({ principal: sa, uniqueId: "111", audience: AUD, includeEmail: true });
    assert.equal((await verify(foreign)).ok, false);
  });

  it("a cached verification never outlives the token", async () => {
    const { mint, verify, clock } = setup();
    const token = await mint();
    assert.equal((await verify(token)).ok, true);
    clock.advance(3599_000);
    assert.equal((await verify(token)).ok, true);
    clock.advance(2_000);
    assert.deepEqual(await verify(token), { ok: false, reason: "expired" });
  });

  it("rotation keeps old tokens valid until they expire, then unpublishes the old key", async () => {
    const { mint, verify, tokens, clock } = setup();
    const before = await mint();
    const firstKid = JSON.parse(Buffer.from(before.split(".")[0]!, "base64url").toString()).kid;
    await tokens.rotate();
    const after = await mint();
    assert.notEqual(before.split(".")[0], after.split(".")[0]);
    assert.equal((await tokens.jwks()).keys.length, 2);
    assert.equal((await verify(before)).ok, true);
    clock.advance(13 * 3600_000);
    await tokens.rotate();
    const kids = (await tokens.jwks()).keys.map((k) => k.kid);
    assert.equal(kids.length, 2, "the key retired 13 hours ago is gone; the one retired now stays");
    assert.ok(!kids.includes(firstKid));
  });

  it("google-auth-library verifies runguard ID tokens with runguard's published certs", async () => {
    const tokens = createTokenService({ store: createMemoryStore(), clock: { now: () => Date.now() } });
    const token = await tokens.signIdToken({ principal: sa, uniqueId: "111", audience: AUD, includeEmail: true });
    const certs = await tokens.pemCerts();
    const client = new OAuth2Client();
    const ticket = await client.verifySignedJwtWithCertsAsync(token, certs, AUD, ["https://accounts.google.com"]);
    assert.equal(ticket.getPayload()?.email, sa.email);
    for (const jwk of (await tokens.jwks()).keys) assert.ok(createPublicKey({ key: jwk as never, format: "jwk" }));
  });
});

describe("access tokens", () => {
  it("look like Google's and verify to their principal", async () => {
    const { tokens, clock } = setup();
    const issued = await tokens.issueAccessToken({
      principal: sa,
      scopes: ["https://www.googleapis.com/auth/cloud-platform"],
      lifetimeSeconds: 60,
    });
    assert.match(issued.token, /^ya29\./);
    assert.equal((await tokens.verifyAccessToken(issued.token))?.principal.email, sa.email);
    const idToken = await tokens.signIdToken({ principal: sa, uniqueId: "111", audience: AUD, includeEmail: true });
    assert.equal(await tokens.verifyAccessToken(idToken), undefined);
    assert.equal(await tokens.verifyAccessToken(`ya29.${idToken}`), undefined);
    clock.advance(61_000);
    assert.equal(await tokens.verifyAccessToken(issued.token), undefined);
  });
});
