import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, createHmac } from "node:crypto";
import { JWT } from "google-auth-library";
import { SignJWT } from "jose";
import { createMemoryStore } from "../store/memory-store.js";
import { fixedClock } from "../core/clock.js";
import { createSelfSignedJwtVerifier, type SelfSignedJwtRequest } from "./self-signed-jwt.js";
import type { AssertionKey } from "./assertion.js";

const EMAIL = "app@p.iam.gserviceaccount.com";
const HOST = "secretmanager.googleapis.com";
const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function newKey(kid: string, email = EMAIL) {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    kid,
    privateKey,
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    stored: {
      name: `k/${kid}`,
      publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
      serviceAccountEmail: email,
    },
  };
}

function setup() {
  const store = createMemoryStore();
  const clock = fixedClock(Date.now());
  const verifier = createSelfSignedJwtVerifier(store, clock);
  const key = newKey("kid1");
  const keys: { kid: string; stored: AssertionKey }[] = [key];
  let lookups = 0;
  const request = (hosts = [HOST]): SelfSignedJwtRequest => ({
    audienceHosts: hosts,
    findKeys: async (kid, issuer) => {
      lookups++;
      return keys.filter((k) => (kid ? k.kid === kid : k.stored.serviceAccountEmail === issuer)).map((k) => k.stored);
    },
  });
  const now = Math.floor(clock.now() / 1000);
  const sign = (
    claims: Record<string, unknown>,
    header: Record<string, unknown> = { alg: "RS256", kid: "kid1" },
    signer = key,
  ) => new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(signer.privateKey);
  const good = { iss: EMAIL, sub: EMAIL, aud: `https://${HOST}/`, iat: now, exp: now + 3600 };
  return { store, clock, verifier, key, keys, request, sign, good, now, lookups: () => lookups };
}

describe("self-signed JWTs as bearer tokens", () => {
  it("google-auth-library's JWT access (aud form) is the account with the cloud-platform scope", async () => {
    const { verifier, key, request } = setup();
    const client = new JWT({ email: EMAIL, key: key.privatePem, keyId: "kid1" });
    client.defaultServicePath = HOST;
    const header = (await client.getRequestHeaders(`https://${HOST}/v1/projects/p/secrets`)).get("authorization");
    const token = String(header).replace(/^Bearer /, "");
    const verified = await verifier.verify(token, request());
    assert.equal(verified?.email, EMAIL);
    assert.deepEqual(verified?.scopes, [CLOUD_PLATFORM]);
    // The same token for another API's request is refused: its aud names Secret Manager.
    assert.equal(await verifier.verify(token, request(["run.googleapis.com"])), undefined);
  });

  it("useJWTAccessWithScope (scope form, no aud, no kid) is accepted with the scopes it names", async () => {
    const { verifier, key, request } = setup();
    const client = new JWT({ email: EMAIL, key: key.privatePem, scopes: [CLOUD_PLATFORM] });
    client.useJWTAccessWithScope = true;
    const header = (await client.getRequestHeaders(`https://${HOST}/`)).get("authorization");
    const token = String(header).replace(/^Bearer /, "");
    const [head, payload] = token
      .split(".")
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>);
    assert.equal(head?.["kid"], undefined);
    assert.equal(payload?.["aud"], undefined);
    const verified = await verifier.verify(token, request(["run.googleapis.com"]));
    assert.deepEqual(verified, {
      email: EMAIL,
      scopes: [CLOUD_PLATFORM],
      expiresAtMs: Number(payload?.["exp"]) * 1000,
    });
  });

  it("accepts gRPC's audience (https://HOST/package.Service) and a key found by iss when there is no kid", async () => {
    const { verifier, sign, good, request, keys } = setup();
    keys.unshift(newKey("other"));
    const token = await sign(
      { ...good, aud: `https://${HOST}/google.cloud.secretmanager.v1.SecretManagerService` },
      { alg: "RS256" },
    );
    assert.equal((await verifier.verify(token, request()))?.email, EMAIL);
  });

  it("refuses forged and misused tokens", async () => {
    const { verifier, sign, good, request, now } = setup();
    const stranger = newKey("kid1");
    const cases: [string, Promise<string> | string][] = [
      ["another key", sign(good, undefined, stranger)],
      ["a wrong aud", sign({ ...good, aud: "https://run.googleapis.com/" })],
      ["an http aud", sign({ ...good, aud: `http://${HOST}/` })],
      ["expired", sign({ ...good, iat: now - 4000, exp: now - 400 })],
      ["a lifetime over an hour", sign({ ...good, exp: now + 3601 })],
      ["iat far in the future", sign({ ...good, iat: now + 1000, exp: now + 2000 })],
      ["no exp", sign({ iss: EMAIL, sub: EMAIL, aud: good.aud, iat: now })],
      ["sub another principal", sign({ ...good, sub: "someone@example.com" })],
      [
        "iss another account",
        sign({ ...good, iss: "x@p.iam.gserviceaccount.com", sub: "x@p.iam.gserviceaccount.com" }),
      ],
      ["neither aud nor scope", sign({ iss: EMAIL, sub: EMAIL, iat: now, exp: now + 60 })],
      ["alg none", `${b64({ alg: "none", kid: "kid1" })}.${b64(good)}.`],
      [
        "HS256 keyed with the public key",
        (() => {
          const body = `${b64({ alg: "HS256", kid: "kid1" })}.${b64(good)}`;
          return `${body}.${createHmac("sha256", "x").update(body).digest("base64url")}`;
        })(),
      ],
      ["oversized", `${b64({ alg: "RS256", kid: "kid1" })}.${"a".repeat(20_000)}.sig`],
      ["garbage", "not.a.jwt"],
    ];
    for (const [what, token] of cases) assert.equal(await verifier.verify(await token, request()), undefined, what);
  });

  it("caches verifications, and drops them when a key changes", async () => {
    const { verifier, sign, good, request, store, keys, lookups } = setup();
    const token = await sign(good);
    assert.ok(await verifier.verify(token, request()));
    assert.ok(await verifier.verify(token, request()));
    assert.equal(lookups(), 1);
    keys.length = 0;
    await store.transact(async (tx) => tx.delete("serviceAccountKey", "k/kid1"));
    assert.equal(await verifier.verify(token, request()), undefined);
  });

  it("a cached token stops working when it expires", async () => {
    const { verifier, sign, good, request, clock } = setup();
    const token = await sign({ ...good, exp: good.iat + 60 });
    assert.ok(await verifier.verify(token, request()));
    clock.advance(61_000);
    assert.equal(await verifier.verify(token, request()), undefined);
  });
});
