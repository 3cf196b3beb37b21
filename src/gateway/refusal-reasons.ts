// Why the front end refused a request, in words a developer can act on. Each text is made from the decision
// itself (the credential problem, the token check's failure, the IAM decision, the ingress setting), only when a
// request is refused, and never holds a credential: it goes to the request log and to `runguard up`'s terminal.
import type { Principal } from "../iam/types.js";
import type { Ingress } from "../run/types.js";
import type { TrafficSource } from "../network/traffic-source.js";
import type { TokenFailure } from "../tokens/types.js";
import type { CredentialProblem } from "./credentials.js";

type SignedIn = Exclude<Principal, { kind: "anonymous" }>;

export const memberOf = (principal: SignedIn) => `${principal.kind}:${principal.email}`;

const MINT_HINT = "mint one with: runguard token --audience SERVICE_URL";

export const NO_CREDENTIAL_REASON = `no token: the request has no Authorization or X-Serverless-Authorization header, and the service is private (${MINT_HINT})`;

const CREDENTIAL_PROBLEMS: Record<CredentialProblem, string> = {
  "several-headers": "bad credential: more than one Authorization (or X-Serverless-Authorization) header",
  "not-bearer": "bad credential: the authorization header is not `Bearer TOKEN` with a single token",
};

export const credentialProblemReason = (problem: CredentialProblem) => CREDENTIAL_PROBLEMS[problem];

const TOKEN_FAILURES: Record<TokenFailure, string> = {
  malformed: "bad token: not a JWT",
  bad_signature: "bad token: its signature does not verify with runguard's keys",
  unknown_kid: "bad token: signed with a key runguard does not publish (another issuer, or an older data directory)",
  wrong_algorithm: "bad token: not signed with RS256",
  expired: `expired token (${MINT_HINT})`,
  not_yet_valid: "token not yet valid: issued in the future",
  wrong_issuer: "bad token: its issuer is not https://accounts.google.com",
  wrong_audience: `bad audience: the token's audience is not one of the service's URLs (${MINT_HINT})`,
  not_an_id_token: `not an ID token (an access token?): Cloud Run takes ID tokens (${MINT_HINT})`,
};

export const tokenFailureReason = (failure: TokenFailure) => TOKEN_FAILURES[failure];

export const disabledReason = (principal: SignedIn) => `${memberOf(principal)} is disabled: its tokens no longer work`;

/** A valid token whose audience is an OAuth client: only a user's own (gcloud's) token may use one. */
export const clientAudienceReason = (principal: SignedIn) =>
  `bad audience: ${memberOf(principal)}'s token is for an OAuth client, which only users' own tokens may be; a service account's needs one of the service's URLs (${MINT_HINT})`;

/** A valid ID token of a service account deleted since (perhaps recreated under the same email). */
export const deletedAccountReason = (principal: SignedIn, sub: string) =>
  `${memberOf(principal)} with unique id ${sub} was deleted: its ID token is still signed and unexpired, but IAM grants nothing to a deleted account (a new account with the same email is another principal)`;

export const missingInvokeReason = (member: string, resource: string) =>
  `${member} lacks run.routes.invoke (no binding grants it; try: runguard iam explain ${member} run.routes.invoke ${resource})`;

const SOURCE_WORDS: Record<TrafficSource["kind"], string> = {
  external: "the internet",
  internal: "a VPC network",
  "load-balancer": "a load balancer",
};

/** Only a VPC network in the service's own project is internal (ingress.ts): another project's is named so. */
export function ingressReason(ingress: Ingress, source: TrafficSource, serviceProject: string): string {
  const from =
    source.kind !== "external" && source.projectId !== serviceProject
      ? `${SOURCE_WORDS[source.kind]} of another project (which counts as the internet)`
      : SOURCE_WORDS[source.kind];
  return `ingress ${ingress}: request came from ${from}`;
}
