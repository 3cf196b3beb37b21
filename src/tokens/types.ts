// Contracts of the token service: the only place that signs and verifies JWTs.
import type { Principal } from "../iam/types.js";
import type { SelfSignedJwtRequest, VerifiedSelfSignedJwt } from "./self-signed-jwt.js";

/** Google's ID-token claims as runguard issues them. */
export interface IdTokenClaims {
  iss: string;
  aud: string;
  azp: string;
  sub: string;
  email?: string;
  email_verified?: boolean;
  iat: number;
  exp: number;
}

export interface IdTokenRequest {
  principal: Exclude<Principal, { kind: "anonymous" }>;
  /** The numeric unique id used for sub and azp. */
  uniqueId: string;
  audience: string;
  includeEmail: boolean;
  /** Defaults to 3600 seconds, as Google. */
  lifetimeSeconds?: number;
}

export interface AccessTokenRequest {
  principal: Exclude<Principal, { kind: "anonymous" }>;
  /**
   * A service account's unique id: its token is bound to it and stops working once the account is deleted, even
   * if another is created with the same email. Looked up by email when absent.
   */
  uniqueId?: string;
  scopes: string[];
  lifetimeSeconds?: number;
}

export interface IssuedAccessToken {
  /** Starts with "ya29." like Google's, so that it is never mistaken for an ID token (it is not a 3-part JWT). */
  token: string;
  /** Epoch milliseconds. */
  expiresAtMs: number;
}

export interface VerifiedAccessToken {
  principal: Exclude<Principal, { kind: "anonymous" }>;
  scopes: string[];
  expiresAtMs: number;
}

export type TokenFailure =
  | "malformed"
  | "bad_signature"
  | "unknown_kid"
  | "wrong_algorithm"
  | "expired"
  | "not_yet_valid"
  | "wrong_issuer"
  | "wrong_audience"
  | "not_an_id_token";

export type IdTokenVerification =
  | { ok: true; claims: IdTokenClaims; principal: Exclude<Principal, { kind: "anonymous" }> }
  | { ok: false; reason: TokenFailure };

export interface Jwk {
  kty: string;
  kid: string;
  alg: string;
  use: string;
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

export interface TokenService {
  signIdToken(request: IdTokenRequest): Promise<string>;
  issueAccessToken(request: AccessTokenRequest): Promise<IssuedAccessToken>;
  verifyIdToken(token: string, acceptedAudiences: (aud: string) => boolean): Promise<IdTokenVerification>;
  /**
   * The same answer as verifyIdToken, synchronously, for a token verified before and not yet expired;
   * undefined when the token has to be verified (call verifyIdToken).
   */
  verifyIdTokenCached?(token: string, acceptedAudiences: (aud: string) => boolean): IdTokenVerification | undefined;
  /** Undefined when the token is not a valid, unexpired runguard access token. */
  verifyAccessToken(token: string): Promise<VerifiedAccessToken | undefined>;
  /**
   * A JWT a service-account key signed and sent as a bearer token (Google's JWT access), checked with Google's
   * rules; undefined when it is not one that is valid for the request. Verifications are cached (bounded).
   */
  verifySelfSignedJwt?(token: string, request: SelfSignedJwtRequest): Promise<VerifiedSelfSignedJwt | undefined>;
  /** The public signing keys, current and those still needed to verify unexpired tokens. */
  jwks(): Promise<{ keys: Jwk[] }>;
  /** Google's v1 certs format: { kid: self-signed X.509 certificate, PEM } (www.googleapis.com/oauth2/v1/certs). */
  pemCerts(): Promise<Record<string, string>>;
  /** Creates a new current signing key; old keys stay published until every token they signed has expired. */
  rotate(): Promise<void>;
}
