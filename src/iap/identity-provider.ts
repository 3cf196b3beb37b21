// Where IAP sends browsers to sign in. By default runguard's own sign-in page (local users); a team can point
// IAP at its own OpenID Connect provider (Keycloak, Dex, ...) instead. Both use the authorization code flow
// with PKCE; the callback learns the user's email.
import type { AuthorizationCodes } from "../signin/authorization-codes.js";
import { createRemoteIdTokenVerifier, type RemoteIdTokenVerifier } from "../tokens/remote-id-token.js";

export interface AuthorizationRequest {
  /** IAP's OAuth client of the protected resource (the built-in provider knows one per resource). */
  iapClientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  nonce: string;
}

export type SignInResult = { ok: true; email: string } | { ok: false; reason: string };

export interface IdentityProvider {
  authorizationUrl(request: AuthorizationRequest): Promise<string>;
  exchange(request: {
    code: string;
    iapClientId: string;
    redirectUri: string;
    codeVerifier: string;
    nonce: string;
  }): Promise<SignInResult>;
}

function withParams(endpoint: string, params: Record<string, string>): string {
  const url = new URL(endpoint);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}

const codeParams = (clientId: string, request: AuthorizationRequest) => ({
  client_id: clientId,
  response_type: "code",
  scope: "openid email",
  redirect_uri: request.redirectUri,
  state: request.state,
  code_challenge: request.codeChallenge,
  code_challenge_method: "S256",
  nonce: request.nonce,
});

/** runguard's sign-in page on the control plane; codes are redeemed in-process. */
export function builtInIdentityProvider(apiBaseUrl: () => string, codes: AuthorizationCodes): IdentityProvider {
  return {
    async authorizationUrl(request) {
      return withParams(`${apiBaseUrl()}/o/oauth2/v2/auth`, codeParams(request.iapClientId, request));
    },
    async exchange(request) {
      const redeemed = codes.redeem(request.code, request.iapClientId, request.redirectUri, request.codeVerifier);
      if (!redeemed.ok) return { ok: false, reason: redeemed.description };
      if (redeemed.grant.nonce !== request.nonce) return { ok: false, reason: "nonce mismatch" };
      return { ok: true, email: redeemed.grant.email };
    },
  };
}

export interface OidcProviderSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

async function discover(issuer: string): Promise<Discovery> {
  const response = await fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`OIDC discovery failed with HTTP ${response.status}`);
  const document = (await response.json()) as Partial<Discovery>;
  if (!document.authorization_endpoint || !document.token_endpoint || !document.jwks_uri)
    throw new Error("OIDC discovery document lacks an endpoint");
  return document as Discovery;
}

/** A team's OpenID Connect provider, found by discovery; its ID tokens are verified against its JWKS. */
export function oidcIdentityProvider(settings: OidcProviderSettings): IdentityProvider {
  let discovered: Promise<{ document: Discovery; verifyIdToken: RemoteIdTokenVerifier }> | undefined;
  const provider = () => {
    discovered ??= discover(settings.issuer).then((document) => ({
      document,
      verifyIdToken: createRemoteIdTokenVerifier(document.jwks_uri, {
        issuer: settings.issuer,
        audience: settings.clientId,
      }),
    }));
    discovered.catch(() => (discovered = undefined));
    return discovered;
  };
  return {
    async authorizationUrl(request) {
      const { document } = await provider();
      return withParams(document.authorization_endpoint, codeParams(settings.clientId, request));
    },
    async exchange(request) {
      const { document, verifyIdToken } = await provider();
      const response = await fetch(document.token_endpoint, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code: request.code,
          redirect_uri: request.redirectUri,
          client_id: settings.clientId,
          client_secret: settings.clientSecret,
          code_verifier: request.codeVerifier,
        }),
      });
      const body = (await response.json().catch(() => ({}))) as { id_token?: unknown; error?: unknown };
      if (!response.ok || typeof body.id_token !== "string")
        return { ok: false, reason: `token endpoint answered ${response.status} ${String(body.error ?? "")}` };
      const verified = await verifyIdToken(body.id_token);
      if (!verified.ok) return { ok: false, reason: `ID token rejected: ${verified.message}` };
      const { claims } = verified;
      if (claims["nonce"] !== request.nonce) return { ok: false, reason: "nonce mismatch" };
      if (typeof claims["email"] !== "string" || claims["email_verified"] === false)
        return { ok: false, reason: "the ID token carries no verified email" };
      return { ok: true, email: claims["email"].toLowerCase() };
    },
  };
}
