// The OAuth 2.0 token endpoint for service-account keys (gcloud activate-service-account, google-auth-library
// JWT clients), plus the public keys and discovery document that verifiers use.
import { findKeyById } from "../../accounts/service-account-keys.js";
import { findServiceAccount } from "../../accounts/service-accounts.js";
import { verifyKeyAssertion } from "../../tokens/assertion.js";
import { discoveryDocument } from "../../tokens/discovery.js";
import { path, reply, type ApiCall, type Route } from "../route.js";

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

const oauthError = (error: string, description: string) => reply(400, { error, error_description: description });

async function exchangeAssertion(call: ApiCall) {
  const { grant_type: grantType, assertion } = call.body as { grant_type?: unknown; assertion?: unknown };
  if (grantType !== JWT_BEARER) return oauthError("unsupported_grant_type", "Invalid grant_type.");
  if (typeof assertion !== "string") return oauthError("invalid_request", "Missing required parameter: assertion");
  const result = await verifyKeyAssertion(
    assertion,
    async (kid) => findKeyById(call.platform, kid),
    call.platform.clock,
    `${call.baseUrl}/token`,
  );
  if (!result.ok) return oauthError("invalid_grant", result.description);
  const account = await findServiceAccount(call.platform, "-", result.email);
  if (!account || account.disabled) return oauthError("invalid_grant", "Invalid grant: account not found");
  call.audit.projectId = account.projectId;
  const principal = { kind: "serviceAccount" as const, email: account.email };
  if (result.targetAudience) {
    const idToken = await call.platform.tokens.signIdToken({
      principal,
      uniqueId: account.uniqueId,
      audience: result.targetAudience,
      includeEmail: true,
    });
    return { id_token: idToken };
  }
  const issued = await call.platform.tokens.issueAccessToken({ principal, scopes: (result.scope ?? "").split(" ") });
  const expiresIn = Math.max(0, Math.floor((issued.expiresAtMs - call.platform.clock.now()) / 1000));
  return { access_token: issued.token, expires_in: expiresIn, token_type: "Bearer" };
}

export const oauthRoutes: Route[] = [
  ...["/token", "/oauth2/v4/token"].map((p): Route => ({
    api: "oauth2",
    method: "POST",
    path: path(p),
    methodName: "google.identity.oauth2.Token",
    mutates: false,
    anonymous: true,
    handle: exchangeAssertion,
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
