// Self-signed JWTs used as bearer tokens ("JWT access"): google-auth-library (JWTAccess, a JWT client without user
// scopes or with useJWTAccessWithScope) and Python google.auth (always_use_jwt_access, google.auth.jwt.Credentials)
// send a JWT signed with a service-account key instead of an access token. Google's rules: RS256, signed by a live
// key of the account, iss = sub = the account's email, iat and exp present with exp - iat at most an hour, and
// either an `aud` naming the API the request is for (https://SERVICE.googleapis.com/, or a URL on that host as
// gRPC sends it), which Google treats as the cloud-platform scope, or a `scope` claim.
import { decodeJwt, decodeProtectedHeader } from "jose";
import type { Clock } from "../core/clock.js";
import type { Store } from "../store/store.js";
import { MAX_ASSERTION_LIFETIME_SECONDS, MAX_KEYS_TRIED, verifiedClaims, type AssertionKey } from "./assertion.js";
import { createVerificationCache } from "./verification-cache.js";

const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";
/** Same bound as runguard's own tokens: a header this long is hostile, not a key-signed JWT. */
const MAX_JWT_BYTES = 16 * 1024;
/** How far `iat` may run ahead of our clock (clients' clocks drift), as for token-endpoint assertions. */
const CLOCK_SKEW_SECONDS = 300;
const MAX_CACHED = 10_000;

export interface SelfSignedJwtRequest {
  /** The hosts the request is for (e.g. secretmanager.googleapis.com); `aud` must name one of them. */
  audienceHosts: readonly string[];
  /** The live keys that may have signed it: the one `kid` names, else every key of the account `iss` names. */
  findKeys: (kid: string | undefined, issuer: string) => Promise<AssertionKey[]>;
}

export interface VerifiedSelfSignedJwt {
  email: string;
  scopes: string[];
  expiresAtMs: number;
}

interface Verified extends VerifiedSelfSignedJwt {
  audienceHost?: string;
}

/** Whether `aud` is the API's root URL or a URL on its host (gRPC's https://HOST/package.Service). */
function audienceHostOf(aud: unknown): string | undefined {
  if (typeof aud !== "string" || aud.length > 2048) return undefined;
  try {
    const url = new URL(aud);
    return url.protocol === "https:" && url.port === "" && !url.username ? url.hostname.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

export interface SelfSignedJwtVerifier {
  verify(token: string, request: SelfSignedJwtRequest): Promise<VerifiedSelfSignedJwt | undefined>;
}

export function createSelfSignedJwtVerifier(store: Store, clock: Clock): SelfSignedJwtVerifier {
  // A cached verification holds only while the keys are unchanged: disabling or deleting a key drops them all.
  const cache = createVerificationCache<Verified>(MAX_CACHED);
  store.onChange((change) => {
    if (change.kind === "serviceAccountKey" || change.kind === "serviceAccount" || change.kind === "*") cache.clear();
  });

  const accepted = (verified: Verified, request: SelfSignedJwtRequest) =>
    verified.audienceHost === undefined || request.audienceHosts.includes(verified.audienceHost) ? verified : undefined;

  const verifyUncached = async (token: string, request: SelfSignedJwtRequest): Promise<Verified | undefined> => {
    let kid: string | undefined;
    let issuer: unknown;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== "RS256") return undefined;
      kid = header.kid;
      issuer = decodeJwt(token).iss;
    } catch {
      return undefined;
    }
    if (typeof issuer !== "string" || issuer.length > 320) return undefined;
    const candidates = (await request.findKeys(kid, issuer)).filter((k) => k.serviceAccountEmail === issuer);
    let claims: Record<string, unknown> | undefined;
    for (const candidate of candidates.slice(0, MAX_KEYS_TRIED)) {
      claims = (await verifiedClaims(token, candidate))?.claims;
      if (claims) break;
    }
    if (!claims || claims["iss"] !== issuer || claims["sub"] !== issuer) return undefined;
    const { iat, exp } = claims;
    const now = clock.now() / 1000;
    if (typeof iat !== "number" || typeof exp !== "number") return undefined;
    if (exp <= iat || exp - iat > MAX_ASSERTION_LIFETIME_SECONDS || iat > now + CLOCK_SKEW_SECONDS || exp <= now)
      return undefined;
    const scope = typeof claims["scope"] === "string" ? claims["scope"].split(" ").filter(Boolean) : [];
    const expiresAtMs = exp * 1000;
    if (claims["aud"] !== undefined) {
      const audienceHost = audienceHostOf(claims["aud"]);
      if (!audienceHost) return undefined;
      return { email: issuer, scopes: scope.length > 0 ? scope : [CLOUD_PLATFORM], expiresAtMs, audienceHost };
    }
    return scope.length > 0 ? { email: issuer, scopes: scope, expiresAtMs } : undefined;
  };

  return {
    async verify(token, request) {
      const cached = cache.get(token, clock.now());
      if (cached) return accepted(cached, request);
      if (token.length > MAX_JWT_BYTES || token.split(".").length !== 3) return undefined;
      const verified = await verifyUncached(token, request);
      if (!verified) return undefined;
      cache.set(token, verified, verified.expiresAtMs);
      return accepted(verified, request);
    },
  };
}
