// Control-plane authentication: a runguard-issued OAuth access token in `Authorization: Bearer`.
import type { IncomingHttpHeaders } from "node:http";
import { unauthenticated } from "../core/errors.js";
import type { TokenService, VerifiedAccessToken } from "../tokens/types.js";

const MISSING =
  "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
const INVALID =
  "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";

export async function authenticateCaller(
  headers: IncomingHttpHeaders,
  tokens: TokenService,
  isDisabled: (email: string) => boolean,
): Promise<Pick<VerifiedAccessToken, "principal" | "scopes">> {
  const header = headers["authorization"];
  if (header === undefined) throw unauthenticated(MISSING);
  const match = /^bearer\s+(\S+)$/i.exec(header.trim());
  if (!match?.[1]) throw unauthenticated(INVALID);
  const verified = await tokens.verifyAccessToken(match[1]);
  if (!verified || isDisabled(verified.principal.email)) throw unauthenticated(INVALID);
  return verified;
}
