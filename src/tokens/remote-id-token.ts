// ID tokens of another OpenID Connect provider (a team's Keycloak, Dex...), verified against its published keys.
import { createRemoteJWKSet, jwtVerify } from "jose";

export type RemoteIdTokenVerification =
  | { ok: true; claims: Record<string, unknown> }
  /** Why the token was refused, in jose's words (shown on IAP's sign-in failure page). */
  | { ok: false; message: string };

export type RemoteIdTokenVerifier = (token: string) => Promise<RemoteIdTokenVerification>;

/** Verifies tokens of `issuer` for `audience` with the keys at `jwksUri` (fetched when first needed). */
export function createRemoteIdTokenVerifier(
  jwksUri: string,
  expected: { issuer: string; audience: string },
): RemoteIdTokenVerifier {
  const keys = createRemoteJWKSet(new URL(jwksUri));
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: expected.issuer,
        audience: expected.audience,
        requiredClaims: ["exp", "iat"],
      });
      return { ok: true, claims: payload };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
  };
}
