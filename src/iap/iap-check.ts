// The IAP check, the front end's IAP stage (gateway/iap-stage.ts) wherever IAP stands in front of a service:
// who is calling (an ID token for IAP's OAuth client, or the browser's session cookie), may they
// (iap.webServiceVersions.accessViaIAP on the protected resource), and what IAP then sends on (its service
// agent's token, the signed assertion). Every answer is returned as data; nothing here writes a response.
import type { IncomingMessage } from "node:http";
import type { Clock } from "../core/clock.js";
import type { Store } from "../store/store.js";
import type { PolicyEngine } from "../iam/engine.js";
import type { Principal } from "../iam/types.js";
import type { TokenService } from "../tokens/types.js";
import type { IapSigner } from "../tokens/iap-jwt.js";
import { extractCredential } from "../gateway/credentials.js";
import { clientRawHeaders } from "../gateway/client-headers.js";
import type { IapAnswer, IapStage, IapVerdict } from "../gateway/iap-stage.js";
import type { LoadBalancerRoute, RoutedService } from "../gateway/directory.js";
import { IAP_GENERATED, badRequestPage } from "../gateway/pages.js";
import { serviceAgentEmail } from "../accounts/service-agents.js";
import { serviceAccountName } from "../accounts/service-accounts.js";
import { buildAuditEntry } from "../audit/audit-log.js";
import { parseRequestUrl } from "../core/http-input.js";
import type { ProtectedResource, SignInFlow } from "./sign-in-flow.js";
import type { IapAccounts } from "./iap-accounts.js";
import { withoutIapCookies } from "./iap-session.js";
import { forbiddenPage } from "./pages.js";
import { serviceTarget } from "./direct-iap.js";

export interface IapTarget extends ProtectedResource {
  projectId: string;
  /** The `aud` of the signed assertion: /projects/NUMBER/global/backendServices/ID or .../services/NAME. */
  assertionAudience: string;
  /** The monitored resource of IAP's audit entries. */
  auditResource: { type: string; labels: Record<string, string> };
}

type Backend = LoadBalancerRoute["backend"];

export function backendTarget(backend: Backend, projectNumber: string): IapTarget {
  return {
    // IAP's own name for the backend service: policies set with `gcloud iap web` live there.
    resource: `projects/${backend.projectId}/iap_web/compute/services/${backend.name}`,
    id: backend.id,
    clientId: backend.iap.oauth2ClientId,
    projectId: backend.projectId,
    assertionAudience: `/projects/${projectNumber}/global/backendServices/${backend.id}`,
    auditResource: {
      type: "gce_backend_service",
      labels: { project_id: backend.projectId, backend_service_id: backend.id },
    },
  };
}

/** What the IAP check uses. */
export interface IapCheckDeps {
  clock: Clock;
  engine: Pick<PolicyEngine, "decide">;
  tokens: Pick<TokenService, "verifyIdToken" | "signIdToken">;
  /** IAP's audit entries go to the store's log writer, not awaited. */
  store: Pick<Store, "appendLog">;
  accounts: Pick<IapAccounts, "userId" | "serviceAccountId">;
  signer: Pick<IapSigner, "sign">;
  signIn: SignInFlow;
}

type Caller = { principal: Exclude<Principal, { kind: "anonymous" }>; sub?: string };

const refusal = (
  status: number,
  body: string,
  why: { reason: string; principalEmail?: string },
  contentType = "text/plain",
): IapVerdict => ({
  pass: false,
  answer: { status, headers: { "content-type": contentType, ...IAP_GENERATED }, body },
  refusal: why,
});

const answered = (answer: IapAnswer): IapVerdict => ({ pass: false, answer });

const MALFORMED_TARGET: IapVerdict = answered({
  status: 400,
  headers: { "content-type": "text/html; charset=UTF-8", connection: "close", ...IAP_GENERATED },
  body: badRequestPage(),
});

const isXhr = (req: IncomingMessage) => (req.headers["x-requested-with"] ?? "").toString() === "XMLHttpRequest";

export function createIapCheck(deps: IapCheckDeps): IapStage {
  const { clock, engine, tokens, store, accounts, signer, signIn } = deps;

  /** Written off the request path: the store queues it to its log writer at once, so readers see it. */
  function audit(target: IapTarget, email: string, granted: boolean): void {
    const entry = buildAuditEntry(
      {
        projectId: target.projectId,
        logType: "data_access",
        serviceName: "iap.googleapis.com",
        methodName: "AuthorizeUser",
        resourceName: target.resource,
        principal: email.endsWith(".gserviceaccount.com") ? { kind: "serviceAccount", email } : { kind: "user", email },
        authorizationInfo: [{ resource: target.resource, permission: "iap.webServiceVersions.accessViaIAP", granted }],
        ...(granted ? {} : { error: { status: "PERMISSION_DENIED", message: "IAP denied access." } }),
        resource: target.auditResource,
      },
      clock.now(),
    );
    store.appendLog(entry).catch(() => undefined);
  }

  /** The caller, or IAP's answer when there is none (401, or the redirect to sign in). */
  async function identify(req: IncomingMessage, target: IapTarget): Promise<Caller | IapVerdict> {
    // X-Serverless-Authorization is IAP's own header: a client's copy is no credential here.
    const credential = extractCredential(clientRawHeaders(req.rawHeaders, true));
    if (credential.kind === "bearer") {
      const verdict = await tokens.verifyIdToken(credential.token, () => true);
      if (!verdict.ok)
        return refusal(401, "Invalid IAP credentials: JWT signature is invalid", {
          reason: "IAP: the bearer token is not a valid Google-signed ID token",
        });
      if (verdict.claims.aud !== target.clientId)
        return refusal(401, "Invalid JWT audience", {
          reason: `IAP: the ID token's audience is not IAP's OAuth client (${target.clientId})`,
          principalEmail: verdict.principal.email,
        });
      return { principal: verdict.principal, ...(verdict.claims.sub ? { sub: verdict.claims.sub } : {}) };
    }
    const email = await signIn.sessionEmail(req, target);
    if (email) return { principal: { kind: "user", email } };
    if (isXhr(req))
      return refusal(401, "Invalid IAP credentials: empty token", {
        reason: "IAP: no credential (an XMLHttpRequest is not redirected to sign in)",
      });
    return answered(await signIn.start(req, target));
  }

  /** IAP's service agent token for the service and the identity headers IAP vouches for; a 500 when the agent
   * was never provisioned, the seed's first troubleshooting case. */
  async function vouch(
    req: IncomingMessage,
    service: RoutedService,
    target: IapTarget,
    { email, userId }: { email: string; userId: string },
  ): Promise<IapVerdict> {
    const agentEmail = serviceAgentEmail(service.projectNumber, "iap.googleapis.com");
    const agentId = accounts.serviceAccountId(serviceAccountName(service.projectId, agentEmail));
    if (agentId === undefined)
      return refusal(
        500,
        "The IAP service account is not provisioned. Run: gcloud beta services identity create --service=iap.googleapis.com",
        {
          reason:
            "IAP: its service agent is not provisioned (try: gcloud beta services identity create --service=iap.googleapis.com)",
          principalEmail: email,
        },
      );
    const agentToken = await tokens.signIdToken({
      principal: { kind: "serviceAccount", email: agentEmail },
      uniqueId: agentId,
      audience: service.urls[0] ?? "",
      includeEmail: true,
    });
    const assertion = await signer.sign({
      aud: target.assertionAudience,
      email,
      sub: `accounts.google.com:${userId}`,
    });
    return {
      pass: true,
      serverlessAuthorization: `bearer ${agentToken}`,
      cookie: withoutIapCookies(req.headers.cookie),
      identityHeaders: {
        "x-goog-iap-jwt-assertion": assertion,
        "x-goog-authenticated-user-email": `accounts.google.com:${email}`,
        "x-goog-authenticated-user-id": `accounts.google.com:${userId}`,
      },
    };
  }

  /** IAP on one protected resource: its own paths, its refusals, or the request let through. */
  async function checkTarget(req: IncomingMessage, service: RoutedService, target: IapTarget): Promise<IapVerdict> {
    const url = parseRequestUrl(req.url ?? "/", "http://iap");
    if (!url) return MALFORMED_TARGET;
    if (signIn.isOwnPath(url)) return answered(await signIn.serveOwnPath(req, url, target));
    const caller = await identify(req, target);
    if ("pass" in caller) return caller;
    const { principal } = caller;
    const granted = engine.decide(principal, "iap.webServiceVersions.accessViaIAP", target.resource).allowed;
    audit(target, principal.email, granted);
    if (!granted)
      return refusal(
        403,
        forbiddenPage(principal.email),
        {
          reason: `IAP: ${principal.kind}:${principal.email} lacks iap.webServiceVersions.accessViaIAP (try: runguard iam explain ${principal.kind}:${principal.email} iap.webServiceVersions.accessViaIAP ${target.resource})`,
          principalEmail: principal.email,
        },
        "text/html; charset=UTF-8",
      );
    const userId = principal.kind === "user" ? accounts.userId(principal.email) : (caller.sub ?? "");
    return vouch(req, service, target, { email: principal.email, userId });
  }

  return {
    async check(req, service, backend) {
      // IAP on the backend service first (the load balancer's), then on the service itself; the last to let
      // the request through is the one it goes on with.
      const targets: IapTarget[] = [];
      if (backend?.iap.enabled) targets.push(backendTarget(backend, service.projectNumber));
      if (service.iapEnabled) targets.push(serviceTarget(service));
      let passed: IapVerdict | undefined;
      for (const target of targets) {
        const verdict = await checkTarget(req, service, target);
        if (!verdict.pass) return verdict;
        passed = verdict;
      }
      if (!passed) throw new Error("IAP is on neither the backend service nor the service");
      return passed;
    },
  };
}
