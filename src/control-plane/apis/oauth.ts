// The OAuth 2.0 token endpoint: JWT-bearer assertions signed with service-account keys (gcloud
// activate-service-account, google-auth-library JWT clients), the authorization codes of runguard's sign-in and
// the refresh of gcloud's signed-in credential, plus the public keys and discovery document that verifiers use.
import { assertionKeyCandidates } from "../../accounts/service-account-keys.js";
import { findServiceAccount } from "../../accounts/service-accounts.js";
import { verifyKeyAssertion } from "../../tokens/assertion.js";
import { discoveryDocument } from "../../tokens/discovery.js";
import { ensureUser } from "../../accounts/users.js";
import type { AuthorizationCodes } from "../../signin/authorization-codes.js";
import { path, reply, type ApiCall, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const AUTHORIZATION_CODE = "authorization_code";
const ID_TOKEN_LIFETIME_SECONDS = 3600;

const oauthError = (error: string, description: string) => reply(400, { error, error_description: description });

const text = (value: unknown) => (typeof value === "string" ? value : undefined);

async function exchangeCode(call: ApiCall, codes: AuthorizationCodes) {
  const code = text(call.body["code"]);
  const clientId = text(call.body["client_id"]);
  const redirectUri = text(call.body["redirect_uri"]);
  if (!code || !clientId || !redirectUri)
    return oauthError("invalid_request", "Missing required parameter: code, client_id or redirect_uri");
  const redeemed = codes.redeem(code, clientId, redirectUri, text(call.body["code_verifier"]));
  if (!redeemed.ok) return oauthError("invalid_grant", redeemed.description);
  const user = await ensureUser(call.platform, redeemed.grant.email);
  const idToken = await call.platform.tokens.signIdToken({
    principal: { kind: "user", email: user.email },
    uniqueId: user.uniqueId,
    audience: clientId,
    includeEmail: true,
    lifetimeSeconds: ID_TOKEN_LIFETIME_SECONDS,
  });
  return { id_token: idToken, token_type: "Bearer", expires_in: ID_TOKEN_LIFETIME_SECONDS, scope: "openid email" };
}

async function exchangeAssertion(call: ApiCall) {
  const { assertion } = call.body as { assertion?: unknown };
  if (typeof assertion !== "string") return oauthError("invalid_request", "Missing required parameter: assertion");
  const result = await verifyKeyAssertion(
    assertion,
    async (kid, issuer) => assertionKeyCandidates(call.platform, kid, issuer),
    call.platform.clock,
    `${call.baseUrl}/token`,
  );
  if (!result.ok) return reply(result.httpStatus, { error: result.error, error_description: result.description });
  const account = await findServiceAccount(call.platform, "-", result.email);
  if (!account || account.disabled) return oauthError("invalid_grant", "Invalid grant: account not found");
  const { targetAudience, scope } = result;
  return auditAs({ projectId: account.projectId }, async () => {
    const principal = { kind: "serviceAccount" as const, email: account.email };
    if (targetAudience) {
      const idToken = await call.platform.tokens.signIdToken({
        principal,
        uniqueId: account.uniqueId,
        audience: targetAudience,
        includeEmail: true,
      });
      return { id_token: idToken };
    }
    const issued = await call.platform.tokens.issueAccessToken({
      principal,
      uniqueId: account.uniqueId,
      scopes: (scope ?? "").split(" "),
    });
    const expiresIn = Math.max(0, Math.floor((issued.expiresAtMs - call.platform.clock.now()) / 1000));
    return { access_token: issued.token, expires_in: expiresIn, token_type: "Bearer" };
  });
}

/**
 * gcloud refreshes the credential `runguard env` signs it in with (app/gcloud-credentials.ts), whose refresh
 * token is its own access token: the refresh hands that token back while it is valid, so it grants nothing the
 * token did not already carry, and once it has expired gcloud asks to sign in again (`runguard env`).
 */
async function refreshSignedInToken(call: ApiCall) {
  // google-auth-library (UserRefreshClient) and Python google.auth send client_id, client_secret, refresh_token
  // and grant_type as a form; Google refuses a refresh that names no client before looking at the token.
  if (!text(call.body["client_id"]))
    return oauthError("invalid_request", "Could not determine client ID from request.");
  const token = text(call.body["refresh_token"]);
  if (!token) return oauthError("invalid_request", "Missing required parameter: refresh_token");
  const verified = await call.platform.tokens.verifyAccessToken(token);
  // Google's words; once the token has expired the user signs in again (`runguard env`).
  if (!verified) return oauthError("invalid_grant", "Token has been expired or revoked.");
  const expiresIn = Math.max(0, Math.floor((verified.expiresAtMs - call.platform.clock.now()) / 1000));
  return { access_token: token, expires_in: expiresIn, token_type: "Bearer", scope: verified.scopes.join(" ") };
}

export const createOauthRoutes = (codes: AuthorizationCodes): Route[] => [
  ...["/token", "/oauth2/v4/token"].map((p): Route => ({
    api: "oauth2",
    method: "POST",
    path: path(p),
    methodName: "google.identity.oauth2.Token",
    mutates: false,
    anonymous: true,
    handle: async (call) => {
      const grantType = call.body["grant_type"];
      if (grantType === JWT_BEARER) return exchangeAssertion(call);
      if (grantType === AUTHORIZATION_CODE) return exchangeCode(call, codes);
      if (grantType === "refresh_token") return refreshSignedInToken(call);
      return oauthError("unsupported_grant_type", "Invalid grant_type.");
    },
  })),
  {
    api: "oauth2",
    method: "GET",
    path: path("/oauth2/v3/certs"),
    methodName: "google.identity.oauth2.Certs",
    mutates: false,
    anonymous: true,
    handle: async (call) => call.platform.tokens.jwks(),
  },
  {
    api: "oauth2",
    method: "GET",
    path: path("/oauth2/v1/certs"),
    methodName: "google.identity.oauth2.Certs",
    mutates: false,
    anonymous: true,
    handle: async (call) => call.platform.tokens.pemCerts(),
  },
  {
    api: "oauth2",
    method: "GET",
    path: path("/.well-known/openid-configuration"),
    methodName: "google.identity.oauth2.Discovery",
    mutates: false,
    anonymous: true,
    handle: async (call) => discoveryDocument("https://accounts.google.com", call.baseUrl),
  },
];
