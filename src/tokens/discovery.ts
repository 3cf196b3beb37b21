// The OpenID Connect discovery document of runguard's issuer.
export function discoveryDocument(issuer: string, baseUrl: string) {
  return {
    issuer,
    authorization_endpoint: `${baseUrl}/o/oauth2/v2/auth`,
    token_endpoint: `${baseUrl}/token`,
    jwks_uri: `${baseUrl}/oauth2/v3/certs`,
    response_types_supported: ["code", "id_token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["RS256"],
    scopes_supported: ["openid", "email", "profile"],
    claims_supported: ["aud", "azp", "email", "email_verified", "exp", "iat", "iss", "sub"],
  };
}
