import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { SignJWT } from "jose";
import { fixedClock } from "../core/clock.js";
import { verifyKeyAssertion, type AssertionKey } from "./assertion.js";

const EMAIL = "app@p.iam.gserviceaccount.com";
const TOKEN_URL = "https://oauth2.googleapis.com/token";

function keyPair(): { privateKey: KeyObject; stored: AssertionKey } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKey,
    stored: { publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), serviceAccountEmail: EMAIL },
  };
}

describe("key assertions at the token endpoint", () => {
  const clock = fixedClock(Date.now());
  const now = Math.floor(clock.now() / 1000);
  const [first, second] = [keyPair(), keyPair()];
  /** Like assertionKeyCandidates: the key kid names, else the keys of iss. */
  const findKeys = async (kid: string | undefined, issuer: string | undefined) =>
    kid === "k2" ? [second.stored] : issuer === EMAIL ? [first.stored, second.stored] : [];
  const sign = (claims: Record<string, unknown>, signer: KeyObject, kid?: string) =>
    new SignJWT({ iss: EMAIL, aud: TOKEN_URL, scope: "s", iat: now, exp: now + 3600, ...claims })
      .setProtectedHeader({ alg: "RS256", ...(kid ? { kid } : {}) })
      .sign(signer);
  const verify = async (token: string) => verifyKeyAssertion(token, findKeys, clock, "http://127.0.0.1/token");

  it("without kid, tries the keys of the account in iss", async () => {
    assert.deepEqual(await verify(await sign({}, second.privateKey)), { ok: true, email: EMAIL, scope: "s" });
  });

  it("an unknown account is Google's account not found; another key's signature is Invalid JWT Signature.", async () => {
    const unknown = await verify(await sign({ iss: "x@p.iam.gserviceaccount.com" }, first.privateKey));
    assert.equal(!unknown.ok && unknown.description, "Invalid grant: account not found");
    const stranger = keyPair();
    const forged = await verify(await sign({}, stranger.privateKey));
    assert.equal(!forged.ok && forged.description, "Invalid JWT Signature.");
    const wrongKid = await verify(await sign({}, first.privateKey, "k2"));
    assert.equal(!wrongKid.ok && wrongKid.description, "Invalid JWT Signature.");
  });
});
