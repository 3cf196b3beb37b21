// IAP's signed header: an ES256 JWT (x-goog-iap-jwt-assertion) with iss https://cloud.google.com/iap and the
// protected resource as audience, verifiable against the JWKS runguard publishes. Keys live for the process.
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type JWK } from "jose";
import { randomBytes } from "node:crypto";
import type { Clock } from "../core/clock.js";

export interface IapSigner {
  sign(claims: { aud: string; email: string; sub: string }): Promise<string>;
  jwks(): Promise<{ keys: JWK[] }>;
  /** { kid: PEM public key }, the shape of www.gstatic.com/iap/verify/public_key. */
  pemKeys(): Promise<Record<string, string>>;
}

export function createIapSigner(clock: Clock): IapSigner {
  const kid = randomBytes(3).toString("base64url");
  const keys = generateKeyPair("ES256", { extractable: true });
  return {
    async sign(claims) {
      const { privateKey } = await keys;
      const iat = Math.floor(clock.now() / 1000);
      return new SignJWT({ email: claims.email, sub: claims.sub, azp: claims.aud, identity_source: "GOOGLE" })
        .setProtectedHeader({ alg: "ES256", typ: "JWT", kid })
        .setIssuer("https://cloud.google.com/iap")
        .setAudience(claims.aud)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 600)
        .sign(privateKey);
    },
    async pemKeys() {
      const { publicKey } = await keys;
      return { [kid]: await exportSPKI(publicKey) };
    },
    async jwks() {
      const { publicKey } = await keys;
      return { keys: [{ ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" }] };
    },
  };
}
