// Cloud Run's invoker check as data: public services pass untouched; private ones need a valid ID token whose
// audience is one of the service's URLs, and run.routes.invoke for its principal. No credential → 403,
// a bad credential → 401, a valid one without the permission → 403 (fidelity reference §1.1–1.4).
import { ANONYMOUS, type Principal } from "../iam/types.js";
import type { PolicyEngine } from "../iam/engine.js";
import type { TokenService } from "../tokens/types.js";
import { extractCredential } from "./credentials.js";
import type { RoutedService } from "./directory.js";
import { LOG_TEXT } from "./pages.js";

export type InvokeVerdict =
  | { allowed: true; public: true }
  | {
      allowed: true;
      public: false;
      principal: Exclude<Principal, { kind: "anonymous" }>;
      header: "authorization" | "x-serverless-authorization";
      scheme: string;
      token: string;
    }
  | { allowed: false; status: 401 | 403; logText: string; principal?: Principal };

export interface InvokeDeps {
  engine: Pick<PolicyEngine, "decide">;
  tokens: Pick<TokenService, "verifyIdToken">;
  /** A disabled service account's tokens stop working at once, as on Google Cloud. */
  subjects: { isDisabled(email: string): boolean };
}

const OAUTH_CLIENT_AUDIENCE = /^[0-9]+-[a-z0-9]+\.apps\.googleusercontent\.com$|^\d+\.apps\.googleusercontent\.com$/;

export function isPublic(deps: InvokeDeps, service: RoutedService): boolean {
  return service.invokerIamDisabled || deps.engine.decide(ANONYMOUS, "run.routes.invoke", service.resource).allowed;
}

export async function decideInvoke(
  deps: InvokeDeps,
  service: RoutedService,
  rawHeaders: readonly string[],
): Promise<InvokeVerdict> {
  if (isPublic(deps, service)) return { allowed: true, public: true };
  const credential = extractCredential(rawHeaders);
  if (credential.kind === "none") return { allowed: false, status: 403, logText: LOG_TEXT.notAuthenticated };
  if (credential.kind === "invalid") return { allowed: false, status: 401, logText: LOG_TEXT.notAuthorized };
  const verdict = await deps.tokens.verifyIdToken(
    credential.token,
    (aud) => service.audiences.has(aud) || OAUTH_CLIENT_AUDIENCE.test(aud),
  );
  if (!verdict.ok) return { allowed: false, status: 401, logText: LOG_TEXT.notAuthorized };
  const principal = verdict.principal;
  if (deps.subjects.isDisabled(principal.email))
    return { allowed: false, status: 401, logText: LOG_TEXT.notAuthorized, principal };
  // Only developers' own tokens (gcloud's OAuth client as audience) may skip the service-URL audience.
  if (!service.audiences.has(verdict.claims.aud) && principal.kind !== "user") {
    return { allowed: false, status: 401, logText: LOG_TEXT.notAuthorized, principal };
  }
  if (!deps.engine.decide(principal, "run.routes.invoke", service.resource).allowed) {
    return { allowed: false, status: 403, logText: LOG_TEXT.missingInvoke, principal };
  }
  return {
    allowed: true,
    public: false,
    principal,
    header: credential.header,
    scheme: credential.scheme,
    token: credential.token,
  };
}
