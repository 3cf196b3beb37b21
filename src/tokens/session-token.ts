// IAP's browser session token: a short HS256 JWT under a key of runguard's own, naming the signed-in user and
// the protected resource it was issued for.
import { SignJWT, jwtVerify } from "jose";

const SESSION_ISSUER = "runguard-iap-session";

export interface SessionClaims {
  email: string;
  /** The protected resource (backend service or Cloud Run service) the session is valid for. */
  audience: string;
  issuedAtSeconds: number;
  lifetimeSeconds: number;
}

export function signSessionToken(key: Uint8Array, claims: SessionClaims): Promise<string> {
  return new SignJWT({ email: claims.email })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(SESSION_ISSUER)
    .setAudience(claims.audience)
    .setIssuedAt(claims.issuedAtSeconds)
    .setExpirationTime(claims.issuedAtSeconds + claims.lifetimeSeconds)
    .sign(key);
}

/** The session's email, or undefined for a forged, expired, malformed or other-resource token. */
export async function verifySessionToken(
  key: Uint8Array,
  token: string,
  expected: { audience: string; nowMs: number },
): Promise<string | undefined> {
  try {
    const { payload } = await jwtVerify(token, key, {
      issuer: SESSION_ISSUER,
      audience: expected.audience,
      algorithms: ["HS256"],
      currentDate: new Date(expected.nowMs),
      requiredClaims: ["exp"],
    });
    return typeof payload["email"] === "string" ? payload["email"] : undefined;
  } catch {
    return undefined;
  }
}
