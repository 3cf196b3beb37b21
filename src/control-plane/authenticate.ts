// Control-plane authentication: a runguard-issued OAuth access token in `Authorization: Bearer`, or a JWT signed
// with a service-account key (Google's self-signed JWT access, what Google's libraries send for a key file).
import type { IncomingHttpHeaders } from "node:http";
import { unauthenticated } from "../core/errors.js";
import { assertionKeyCandidates, type ServiceAccountKeysDeps } from "../accounts/service-account-keys.js";
import type { TokenService, VerifiedAccessToken } from "../tokens/types.js";
import type { ApiName } from "./route.js";
import type { RequestTarget } from "./target.js";

const MISSING =
  "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
const INVALID =
  "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";

/** What a self-signed JWT is checked against: the API the request is for, and where the account keys are. */
export interface CallAudience {
  target: Pick<RequestTarget, "host" | "api">;
  api: ApiName;
  keys: ServiceAccountKeysDeps;
}

/**
 * The hosts a self-signed JWT's `aud` may name for this call: the API's own host, and the host the client
 * addressed when that is a host of the same API (a regional one such as us-central1-run.googleapis.com). A JWT
 * for one API is never accepted by another, and none with an `aud` by runguard's own routes (only one with scopes).
 */
function audienceHosts({ target, api }: CallAudience): string[] {
  if (api === "runguard") return [];
  const hosts = [api === "oauth2" ? "oauth2.googleapis.com" : `${api}.googleapis.com`];
  if (target.api === api && !hosts.includes(target.host)) hosts.push(target.host);
  return hosts;
}

export async function authenticateCaller(
  headers: IncomingHttpHeaders,
  tokens: TokenService,
  isDisabled: (email: string) => boolean,
  call?: CallAudience,
): Promise<Pick<VerifiedAccessToken, "principal" | "scopes">> {
  const header = headers["authorization"];
  if (header === undefined) throw unauthenticated(MISSING);
  const match = /^bearer\s+(\S+)$/i.exec(header.trim());
  const token = match?.[1];
  if (!token) throw unauthenticated(INVALID);
  const verified = token.startsWith("ya29.")
    ? await tokens.verifyAccessToken(token)
    : await verifySelfSigned(token, tokens, call);
  if (!verified || isDisabled(verified.principal.email)) throw unauthenticated(INVALID);
  return verified;
}

async function verifySelfSigned(
  token: string,
  tokens: TokenService,
  call: CallAudience | undefined,
): Promise<Pick<VerifiedAccessToken, "principal" | "scopes"> | undefined> {
  if (!call || !tokens.verifySelfSignedJwt) return undefined;
  const verified = await tokens.verifySelfSignedJwt(token, {
    audienceHosts: audienceHosts(call),
    findKeys: async (kid, issuer) =>
      (await assertionKeyCandidates(call.keys, kid, issuer)).map((key) => ({
        name: key.name,
        publicKeyPem: key.publicKeyPem,
        serviceAccountEmail: key.serviceAccountEmail,
      })),
  });
  return verified && { principal: { kind: "serviceAccount", email: verified.email }, scopes: verified.scopes };
}
