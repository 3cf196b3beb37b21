// Verifies the self-signed JWT a service-account key holder sends to the OAuth token endpoint
// (grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer), as gcloud and the Google auth libraries do, with
// Google's rules: signature, `aud` the token endpoint, a lifetime of at most an hour around now, `sub` absent
// or the account itself (a key has no domain-wide delegation here), and a scope or target_audience.
import { compactVerify, decodeJwt, decodeProtectedHeader, importSPKI } from "jose";
import type { Clock } from "../core/clock.js";

export interface AssertionKey {
  /** The resource name (projects/P/serviceAccounts/E/keys/K). */
  name?: string;
  publicKeyPem: string;
  serviceAccountEmail: string;
}

export type AssertionResult =
  | { ok: true; email: string; scope?: string; targetAudience?: string }
  | { ok: false; error: string; description: string; httpStatus: 400 | 401 };

const ACCEPTED_AUDIENCES = [
  "https://oauth2.googleapis.com/token",
  "https://www.googleapis.com/oauth2/v4/token",
  "https://accounts.google.com/o/oauth2/token",
];

/** Google's limit on `exp - iat` for an assertion. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 3600;
/** How far `iat` may be ahead of our clock, and `exp` behind it, before Google's "reasonable timeframe" fails. */
export const ASSERTION_CLOCK_SKEW_SECONDS = 300;

// Google's error_description wordings, as third-party emulators recorded them from the real endpoint.
const BAD_SIGNATURE = "Invalid JWT Signature.";
const BAD_AUDIENCE = "Invalid JWT: Failed audience check.";
const BAD_TIME =
  "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";
const UNKNOWN_ACCOUNT = "Invalid grant: account not found";
const BAD_SCOPE = "Invalid OAuth scope or ID token audience provided.";
/**
 * Google's answer (HTTP 401) to an assertion whose `sub` names another principal when the key's account has
 * no domain-wide delegation, as reported in many client libraries' issues (e.g. googleapis/google-api-php-client
 * #2214, peburrows/goth #159).
 */
const NO_DELEGATION =
  "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.";

const invalidGrant = (description: string): AssertionResult => ({
  ok: false,
  error: "invalid_grant",
  description,
  httpStatus: 400,
});

/** Google allows 10 keys per account; bounding the tries bounds the work one request can cause. */
export const MAX_KEYS_TRIED = 10;

/** The claims of a JWT signed (RS256) by this key, or undefined. Never throws. */
export async function verifiedClaims(
  assertion: string,
  key: AssertionKey,
): Promise<{ key: AssertionKey; claims: Record<string, unknown> } | undefined> {
  try {
    const publicKey = await importSPKI(key.publicKeyPem, "RS256");
    const { payload } = await compactVerify(assertion, publicKey, { algorithms: ["RS256"] });
    const parsed: unknown = JSON.parse(new TextDecoder().decode(payload));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    return { key, claims: parsed as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

export async function verifyKeyAssertion(
  assertion: string,
  /** The keys that may have signed it: the one `kid` names, else those of the account `iss` names. */
  findKeys: (kid: string | undefined, issuer: string | undefined) => Promise<AssertionKey[]>,
  clock: Clock,
  tokenUrl: string,
): Promise<AssertionResult> {
  let kid: string | undefined;
  let issuer: string | undefined;
  try {
    const header = decodeProtectedHeader(assertion);
    if (header.alg !== "RS256") return invalidGrant(BAD_SIGNATURE);
    kid = header.kid;
    const unverified = decodeJwt(assertion);
    issuer = typeof unverified.iss === "string" ? unverified.iss : undefined;
  } catch {
    return invalidGrant("Invalid JWT: malformed.");
  }
  const candidates = await findKeys(kid, issuer);
  if (candidates.length === 0) return invalidGrant(UNKNOWN_ACCOUNT);
  let verified: { key: AssertionKey; claims: Record<string, unknown> } | undefined;
  for (const candidate of candidates.slice(0, MAX_KEYS_TRIED)) {
    verified = await verifiedClaims(assertion, candidate);
    if (verified) break;
  }
  if (!verified) return invalidGrant(BAD_SIGNATURE);
  const { key, claims } = verified;
  if (claims["iss"] !== key.serviceAccountEmail) return invalidGrant(UNKNOWN_ACCOUNT);
  const aud = claims["aud"];
  if (typeof aud !== "string" || ![...ACCEPTED_AUDIENCES, tokenUrl].includes(aud)) return invalidGrant(BAD_AUDIENCE);
  const { iat, exp } = claims;
  const now = clock.now() / 1000;
  if (
    typeof iat !== "number" ||
    typeof exp !== "number" ||
    exp <= iat ||
    exp - iat > MAX_ASSERTION_LIFETIME_SECONDS ||
    iat > now + ASSERTION_CLOCK_SKEW_SECONDS ||
    exp < now - ASSERTION_CLOCK_SKEW_SECONDS
  ) {
    return invalidGrant(BAD_TIME);
  }
  const sub = claims["sub"];
  if (sub !== undefined && sub !== key.serviceAccountEmail) {
    return { ok: false, error: "unauthorized_client", description: NO_DELEGATION, httpStatus: 401 };
  }
  const scope = typeof claims["scope"] === "string" ? claims["scope"].trim() : undefined;
  const targetAudience = typeof claims["target_audience"] === "string" ? claims["target_audience"] : undefined;
  if (!scope && !targetAudience) return { ok: false, error: "invalid_scope", description: BAD_SCOPE, httpStatus: 400 };
  return {
    ok: true,
    email: key.serviceAccountEmail,
    ...(scope ? { scope } : {}),
    ...(targetAudience ? { targetAudience } : {}),
  };
}
