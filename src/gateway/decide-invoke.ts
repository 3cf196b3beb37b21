// Cloud Run's invoker check as data: public services pass untouched; private ones need a valid ID token whose
// audience is one of the service's URLs, and run.routes.invoke for its principal. No credential → 403,
// a bad credential → 401, a valid one without the permission → 403 (fidelity reference §1.1–1.4).
import { ANONYMOUS, type Principal } from "../iam/types.js";
import type { PolicyEngine } from "../iam/engine.js";
import type { IdTokenVerification, TokenService } from "../tokens/types.js";
import type { CredentialReader, CredentialResult } from "./credentials.js";
import type { RoutedService } from "./directory.js";
import { LOG_TEXT } from "./pages.js";
import {
  NO_CREDENTIAL_REASON,
  clientAudienceReason,
  credentialProblemReason,
  deletedAccountReason,
  disabledReason,
  missingInvokeReason,
  tokenFailureReason,
} from "./refusal-reasons.js";

export type InvokeVerdict =
  | {
      allowed: true;
      public: true;
      /** Who called, when the request carried a valid ID token: logged only, never required (the service is public). */
      caller?: string;
    }
  | {
      allowed: true;
      public: false;
      principal: Exclude<Principal, { kind: "anonymous" }>;
      header: "authorization" | "x-serverless-authorization";
      /** The checked header's value as the instance receives it, signature stripped. */
      forwardedValue: string;
    }
  | {
      allowed: false;
      status: 401 | 403;
      /** Cloud Run's request-log text. */
      logText: string;
      /** runguard's words for why (refusal-reasons.ts), made from this decision. */
      reason: string;
      principal?: Principal;
    };

export interface InvokeDeps {
  engine: Pick<PolicyEngine, "decide">;
  tokens: Pick<TokenService, "verifyIdToken" | "verifyIdTokenCached">;
  /**
   * A disabled service account's tokens stop working at once, as on Google Cloud; a deleted one's ID tokens stay
   * valid until they expire, but name a principal IAM no longer grants anything (serviceAccountUniqueId: the
   * account that has the email now).
   */
  subjects: { isDisabled(email: string): boolean; serviceAccountUniqueId?(email: string): string | undefined };
  /** Finds and parses the credential headers, remembering each connection's last (createCredentialReader). */
  readCredential: CredentialReader;
}

const OAUTH_CLIENT_AUDIENCE = /^[0-9]+-[a-z0-9]+\.apps\.googleusercontent\.com$|^\d+\.apps\.googleusercontent\.com$/;

export function isPublic(deps: InvokeDeps, service: RoutedService): boolean {
  return service.invokerIamDisabled || deps.engine.decide(ANONYMOUS, "run.routes.invoke", service.resource).allowed;
}

const PUBLIC: InvokeVerdict = Object.freeze({ allowed: true, public: true });
const NOT_AUTHENTICATED: InvokeVerdict = Object.freeze({
  allowed: false,
  status: 403,
  logText: LOG_TEXT.notAuthenticated,
  reason: NO_CREDENTIAL_REASON,
});
const notAuthorized = (reason: string, principal?: Principal): InvokeVerdict => ({
  allowed: false,
  status: 401,
  logText: LOG_TEXT.notAuthorized,
  reason,
  ...(principal ? { principal } : {}),
});

/** `connection` is what the request came over (its socket), for deps.readCredential's memory. */
export async function decideInvoke(
  deps: InvokeDeps,
  service: RoutedService,
  rawHeaders: readonly string[],
  connection: object,
): Promise<InvokeVerdict> {
  if (isPublic(deps, service)) return identifyPublicCaller(deps, service, rawHeaders, connection);
  const credential = deps.readCredential(rawHeaders, connection);
  if (credential.kind === "none") return NOT_AUTHENTICATED;
  if (credential.kind === "invalid") return notAuthorized(credentialProblemReason(credential.problem));
  return judge(deps, service, credential, await verify(deps, service, credential.token));
}

/** A token verified before is answered from the token service's cache, without checking its signature again. */
function verify(
  deps: InvokeDeps,
  service: RoutedService,
  token: string,
): IdTokenVerification | Promise<IdTokenVerification> {
  const accept = acceptedAudience(service);
  return deps.tokens.verifyIdTokenCached?.(token, accept) ?? deps.tokens.verifyIdToken(token, accept);
}

const acceptedAudience = (service: RoutedService) => (aud: string) =>
  service.audiences.has(aud) || OAUTH_CLIENT_AUDIENCE.test(aud);

/** The principal a verified token names, if the token would also be accepted on a private service. */
function validCaller(deps: InvokeDeps, service: RoutedService, verdict: IdTokenVerification): string | undefined {
  if (!verdict.ok || deps.subjects.isDisabled(verdict.principal.email) || deletedAccount(deps, verdict))
    return undefined;
  if (!service.audiences.has(verdict.claims.aud) && verdict.principal.kind !== "user") return undefined;
  return verdict.principal.email;
}

/**
 * A public service lets everyone through, but a caller that sends a valid ID token (a service calling another
 * with its metadata-server token) is recorded in the request log, so an audit can tell a public service whose
 * callers are all service accounts. Nothing is enforced: an invalid token is simply not recorded.
 */
async function identifyPublicCaller(
  deps: InvokeDeps,
  service: RoutedService,
  rawHeaders: readonly string[],
  connection: object,
): Promise<InvokeVerdict> {
  const credential = deps.readCredential(rawHeaders, connection);
  if (credential.kind !== "bearer") return PUBLIC;
  const caller = validCaller(deps, service, await verify(deps, service, credential.token));
  return caller ? { allowed: true, public: true, caller } : PUBLIC;
}

/** Whether a verified ID token names a service account that was deleted since it was signed. */
function deletedAccount(deps: InvokeDeps, verdict: Extract<IdTokenVerification, { ok: true }>): boolean {
  const { principal, claims } = verdict;
  if (principal.kind !== "serviceAccount" || deps.subjects.serviceAccountUniqueId === undefined) return false;
  return deps.subjects.serviceAccountUniqueId(principal.email) !== claims.sub;
}

function judge(
  deps: InvokeDeps,
  service: RoutedService,
  credential: Extract<CredentialResult, { kind: "bearer" }>,
  verdict: IdTokenVerification,
): InvokeVerdict {
  if (!verdict.ok) return notAuthorized(tokenFailureReason(verdict.reason));
  const principal = verdict.principal;
  if (deps.subjects.isDisabled(principal.email)) return notAuthorized(disabledReason(principal), principal);
  // Only developers' own tokens (gcloud's OAuth client as audience) may skip the service-URL audience.
  if (!service.audiences.has(verdict.claims.aud) && principal.kind !== "user") {
    return notAuthorized(clientAudienceReason(principal), principal);
  }
  // As on Google: the signature still verifies, but the deleted principal holds no role (403, not 401).
  if (deletedAccount(deps, verdict))
    return {
      allowed: false,
      status: 403,
      logText: LOG_TEXT.missingInvoke,
      reason: deletedAccountReason(principal, verdict.claims.sub),
      principal,
    };
  const decision = deps.engine.decide(principal, "run.routes.invoke", service.resource);
  if (!decision.allowed) {
    return {
      allowed: false,
      status: 403,
      logText: LOG_TEXT.missingInvoke,
      reason: missingInvokeReason(decision.principal, service.resource),
      principal,
    };
  }
  return {
    allowed: true,
    public: false,
    principal,
    header: credential.header,
    forwardedValue: credential.forwardedValue,
  };
}
