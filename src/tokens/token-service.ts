// Signs and verifies runguard's tokens with jose: Google-shaped RS256 ID tokens, and opaque-looking
// `ya29.` access tokens for the control plane. Verification never throws on bad input: it returns a reason.
import { SignJWT, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose";
import type { Clock } from "../core/clock.js";
import type { Store } from "../store/store.js";
import type { Principal } from "../iam/types.js";
import { randomBytes } from "node:crypto";
import { createEnvelope, type Envelope } from "../secrets/envelope.js";
import { createKeyRing } from "./key-ring.js";
import { createVerificationCache } from "./verification-cache.js";
import { createSigningCertificates } from "./signing-certificates.js";
import { createSelfSignedJwtVerifier } from "./self-signed-jwt.js";
import type {
  AccessTokenRequest,
  IdTokenClaims,
  IdTokenRequest,
  IdTokenVerification,
  IssuedAccessToken,
  TokenFailure,
  TokenService,
  VerifiedAccessToken,
} from "./types.js";

export const GOOGLE_ISSUER = "https://accounts.google.com";
const ACCEPTED_ISSUERS = [GOOGLE_ISSUER, "accounts.google.com"];
const ACCESS_PREFIX = "ya29.";
const MAX_TOKEN_BYTES = 16 * 1024;
/** Access tokens handed to the CLI and gcloud may live 12 hours, so keys stay published that long. */
const MAX_LIFETIME_MS = 12 * 3600 * 1000 + 5 * 60 * 1000;

type SignedIn = Exclude<Principal, { kind: "anonymous" }>;

export interface TokenServiceOptions {
  store: Store;
  clock: Clock;
  issuer?: string;
  accessTokenAudience?: string;
  /** Maps the `sub` of a token without an email claim (a service account's unique id) to its principal. */
  resolveSubject?: (sub: string) => SignedIn | undefined;
  /**
   * The unique id of the service account that has this email now. When given, a service account's access token
   * carries its account's unique id and is valid only while that same account exists (Google revokes a deleted
   * account's access tokens; one recreated under the same email is another account).
   */
  serviceAccountUniqueId?: (email: string) => string | undefined;
  /** Subscribes to changes of service accounts (to forget cached verifications). */
  onServiceAccountChange?: (listener: () => void) => () => void;
  /** Seals the signing keys in the store; by default under a key of this process only (for a memory store). */
  envelope?: Envelope;
}

function principalFor(email: string): SignedIn {
  return email.endsWith(".gserviceaccount.com") ? { kind: "serviceAccount", email } : { kind: "user", email };
}

function failureOf(error: unknown): TokenFailure {
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad_signature";
  if (error instanceof errors.JOSEAlgNotAllowed) return "wrong_algorithm";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === "missing") return "malformed";
    if (error.claim === "iss") return "wrong_issuer";
    if (error.claim === "nbf" || error.claim === "iat") return "not_yet_valid";
    return "malformed";
  }
  if ((error as Error)?.message === "unknown kid") return "unknown_kid";
  return "malformed";
}

export function createTokenService(options: TokenServiceOptions): TokenService {
  const { store, clock } = options;
  const issuer = options.issuer ?? GOOGLE_ISSUER;
  const accessAudience = options.accessTokenAudience ?? "https://runguard.local/api";
  const keys = createKeyRing(store, clock, MAX_LIFETIME_MS, options.envelope ?? createEnvelope(randomBytes(32)));
  const certificateOf = createSigningCertificates();
  const idCache = createVerificationCache<{ claims: IdTokenClaims; principal: SignedIn }>(10_000);
  const accessCache = createVerificationCache<VerifiedAccessToken & { uniqueId?: string }>(10_000);
  // A cached verification names an account as it was: forget them all when accounts change (rare).
  options.onServiceAccountChange?.(() => accessCache.clear());
  /** Whether a verified token's service account is still the account it was issued to. */
  const stillBound = (verified: VerifiedAccessToken, uniqueId: string | undefined) =>
    verified.principal.kind !== "serviceAccount" ||
    options.serviceAccountUniqueId === undefined ||
    (uniqueId !== undefined && options.serviceAccountUniqueId(verified.principal.email) === uniqueId);
  const selfSigned = createSelfSignedJwtVerifier(store, clock);

  const keyFor = async (header: { kid?: string; alg?: string }) => {
    const key = header.kid ? await keys.byKid(header.kid) : undefined;
    if (!key) throw new Error("unknown kid");
    return key.publicKey;
  };

  const sign = async (claims: JWTPayload, typ: string, lifetimeSeconds: number) => {
    const key = await keys.current();
    const iat = Math.floor(clock.now() / 1000);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: key.kid, typ })
      .setIssuedAt(iat)
      .setExpirationTime(iat + lifetimeSeconds)
      .sign(key.privateKey);
    return { token, expiresAtMs: (iat + lifetimeSeconds) * 1000 };
  };

  const verifyRaw = async (token: string, typ: string, audience?: string) => {
    const { payload } = await jwtVerify(token, keyFor, {
      algorithms: ["RS256"],
      typ,
      ...(audience ? { audience } : {}),
      issuer: typ === "JWT" ? ACCEPTED_ISSUERS : issuer,
      currentDate: new Date(clock.now()),
      // Google's verifiers require both: a token without `exp` would never expire.
      requiredClaims: ["exp", "iat"],
    });
    if (typeof payload.iat === "number" && payload.iat * 1000 > clock.now() + 5000) {
      throw new errors.JWTClaimValidationFailed("iat in the future", payload, "iat", "check_failed");
    }
    return payload;
  };

  return {
    async signIdToken(request: IdTokenRequest) {
      const claims: JWTPayload = { iss: issuer, aud: request.audience, azp: request.uniqueId, sub: request.uniqueId };
      if (request.includeEmail) Object.assign(claims, { email: request.principal.email, email_verified: true });
      return (await sign(claims, "JWT", request.lifetimeSeconds ?? 3600)).token;
    },

    async issueAccessToken(request: AccessTokenRequest): Promise<IssuedAccessToken> {
      const { principal } = request;
      const uniqueId =
        principal.kind === "serviceAccount"
          ? (request.uniqueId ?? options.serviceAccountUniqueId?.(principal.email))
          : undefined;
      const { token, expiresAtMs } = await sign(
        {
          iss: issuer,
          aud: accessAudience,
          sub: principal.email,
          kind: principal.kind,
          ...(uniqueId === undefined ? {} : { uid: uniqueId }),
          scope: request.scopes.join(" "),
        },
        "at+jwt",
        request.lifetimeSeconds ?? 3600,
      );
      return { token: `${ACCESS_PREFIX}${token}`, expiresAtMs };
    },

    verifyIdTokenCached(token, acceptAudience) {
      const cached = idCache.get(token, clock.now());
      if (!cached) return undefined;
      return acceptAudience(cached.claims.aud)
        ? { ok: true, claims: cached.claims, principal: cached.principal }
        : { ok: false, reason: "wrong_audience" };
    },

    async verifyIdToken(token, acceptAudience): Promise<IdTokenVerification> {
      const now = clock.now();
      const cached = idCache.get(token, now);
      if (!cached) {
        if (token.length > MAX_TOKEN_BYTES || token.startsWith(ACCESS_PREFIX))
          return { ok: false, reason: token.startsWith(ACCESS_PREFIX) ? "not_an_id_token" : "malformed" };
        if (token.split(".").length !== 3) return { ok: false, reason: "malformed" };
        let header: { typ?: string };
        try {
          header = decodeProtectedHeader(token);
        } catch {
          return { ok: false, reason: "malformed" };
        }
        if (header.typ === "at+jwt") return { ok: false, reason: "not_an_id_token" };
        let payload: JWTPayload;
        try {
          payload = await verifyRaw(token, "JWT");
        } catch (error) {
          return { ok: false, reason: failureOf(error) };
        }
        const claims = payload as unknown as IdTokenClaims;
        const principal =
          typeof claims.email === "string" ? principalFor(claims.email) : options.resolveSubject?.(String(claims.sub));
        if (!principal || typeof claims.aud !== "string") return { ok: false, reason: "malformed" };
        idCache.set(token, { claims, principal }, claims.exp * 1000);
        return acceptAudience(claims.aud) ? { ok: true, claims, principal } : { ok: false, reason: "wrong_audience" };
      }
      return acceptAudience(cached.claims.aud) ? { ok: true, ...cached } : { ok: false, reason: "wrong_audience" };
    },

    async verifyAccessToken(token) {
      const now = clock.now();
      const cached = accessCache.get(token, now);
      if (cached) {
        const { uniqueId, ...verified } = cached;
        return stillBound(verified, uniqueId) ? verified : undefined;
      }
      if (!token.startsWith(ACCESS_PREFIX) || token.length > MAX_TOKEN_BYTES) return undefined;
      try {
        const payload = await verifyRaw(token.slice(ACCESS_PREFIX.length), "at+jwt", accessAudience);
        const email = String(payload.sub);
        const principal: SignedIn =
          payload["kind"] === "serviceAccount" ? { kind: "serviceAccount", email } : { kind: "user", email };
        const verified = {
          principal,
          scopes: String(payload["scope"] ?? "")
            .split(" ")
            .filter(Boolean),
          expiresAtMs: (payload.exp ?? 0) * 1000,
        };
        const uniqueId = typeof payload["uid"] === "string" ? payload["uid"] : undefined;
        // Refused, not cached: the account may be created again later, and this token must stay refused.
        if (!stillBound(verified, uniqueId)) return undefined;
        accessCache.set(token, { ...verified, ...(uniqueId === undefined ? {} : { uniqueId }) }, verified.expiresAtMs);
        return verified;
      } catch {
        return undefined;
      }
    },

    verifySelfSignedJwt: (token, request) => selfSigned.verify(token, request),

    async jwks() {
      return { keys: (await keys.published()).map((k) => k.publicJwk) };
    },

    async pemCerts() {
      const out: Record<string, string> = {};
      for (const key of await keys.published()) out[key.kid] = await certificateOf(key);
      return out;
    },

    rotate: () => keys.rotate(),
  };
}
