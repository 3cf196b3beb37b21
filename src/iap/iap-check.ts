// The IAP check itself, shared by every place IAP stands in front of a service: who is calling (an ID token for
// IAP's OAuth client, or the browser's session cookie), may they (iap.webServiceVersions.accessViaIAP on the
// protected resource), and the headers IAP then sends on (its service agent's token, the signed assertion).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Platform } from "../core/platform.js";
import type { Principal } from "../iam/types.js";
import { extractCredential } from "../gateway/credentials.js";
import { serviceAgentEmail } from "../accounts/service-agents.js";
import type { ServiceAccount } from "../accounts/service-accounts.js";
import { ensureUser } from "../accounts/users.js";
import { buildAuditEntry } from "../audit/audit-log.js";
import type { RoutedService } from "../gateway/directory.js";
import type { IapSigner } from "./iap-jwt.js";
import type { ProtectedResource, SignInFlow } from "./sign-in-flow.js";
import { IAP_GENERATED, forbiddenPage } from "./pages.js";
import { badRequestPage } from "../gateway/pages.js";
import { parseRequestUrl } from "../core/http-input.js";
import { prepareForService } from "./request-headers.js";

export interface IapTarget extends ProtectedResource {
  projectId: string;
  /** The `aud` of the signed assertion: /projects/NUMBER/global/backendServices/ID or .../services/NAME. */
  assertionAudience: string;
  /** The monitored resource of IAP's audit entries. */
  auditResource: { type: string; labels: Record<string, string> };
}

type IapOutcome = { pass: true; email: string; userId: string } | { pass: false };

interface IapVouch {
  serverlessAuthorization: string;
  trustedHeaders: Record<string, string>;
}

function sendText(res: ServerResponse, status: number, body: string, contentType = "text/plain") {
  res.writeHead(status, { "content-type": contentType, ...IAP_GENERATED });
  res.end(body);
}

const isXhr = (req: IncomingMessage) => (req.headers["x-requested-with"] ?? "").toString() === "XMLHttpRequest";

export function createIapCheck(options: { platform: Platform; signer: IapSigner; signIn: SignInFlow }) {
  const { platform, signer, signIn } = options;

  async function audit(target: IapTarget, email: string, granted: boolean): Promise<void> {
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
      platform.clock.now(),
    );
    await platform.store.appendLog(entry).catch(() => undefined);
  }

  /** The caller, or undefined once IAP has answered (401 or the redirect to sign in). */
  async function identify(
    req: IncomingMessage,
    res: ServerResponse,
    target: IapTarget,
  ): Promise<{ principal: Exclude<Principal, { kind: "anonymous" }>; sub?: string } | undefined> {
    const credential = extractCredential(req.rawHeaders);
    if (credential.kind === "bearer") {
      const verdict = await platform.tokens.verifyIdToken(credential.token, () => true);
      if (!verdict.ok) {
        sendText(res, 401, "Invalid IAP credentials: JWT signature is invalid");
        return undefined;
      }
      if (verdict.claims.aud !== target.clientId) {
        sendText(res, 401, "Invalid JWT audience");
        return undefined;
      }
      return { principal: verdict.principal, ...(verdict.claims.sub ? { sub: verdict.claims.sub } : {}) };
    }
    const email = await signIn.sessionEmail(req, target);
    if (email) return { principal: { kind: "user", email } };
    if (isXhr(req)) sendText(res, 401, "Invalid IAP credentials: empty token");
    else await signIn.start(req, res, target);
    return undefined;
  }

  async function check(req: IncomingMessage, res: ServerResponse, target: IapTarget): Promise<IapOutcome> {
    const caller = await identify(req, res, target);
    if (!caller) {
      req.resume();
      return { pass: false };
    }
    const { principal } = caller;
    const granted = platform.engine.decide(principal, "iap.webServiceVersions.accessViaIAP", target.resource).allowed;
    await audit(target, principal.email, granted);
    if (!granted) {
      req.resume();
      sendText(res, 403, forbiddenPage(principal.email), "text/html; charset=UTF-8");
      return { pass: false };
    }
    const userId =
      principal.kind === "user" ? (await ensureUser(platform, principal.email)).uniqueId : (caller.sub ?? "");
    return { pass: true, email: principal.email, userId };
  }

  /** IAP's service agent token for the service and the identity headers IAP vouches for; undefined (and a 500
   * answered) when the agent was never provisioned, the seed's first troubleshooting case. */
  async function vouch(
    res: ServerResponse,
    service: RoutedService,
    target: IapTarget,
    outcome: { email: string; userId: string },
  ): Promise<IapVouch | undefined> {
    const agentEmail = serviceAgentEmail(service.projectNumber, "iap.googleapis.com");
    const agent = await platform.store.get<ServiceAccount>(
      "serviceAccount",
      `projects/${service.projectId}/serviceAccounts/${agentEmail}`,
    );
    if (!agent) {
      sendText(
        res,
        500,
        "The IAP service account is not provisioned. Run: gcloud beta services identity create --service=iap.googleapis.com",
      );
      return undefined;
    }
    const agentToken = await platform.tokens.signIdToken({
      principal: { kind: "serviceAccount", email: agentEmail },
      uniqueId: agent.uniqueId,
      audience: service.urls[0] ?? "",
      includeEmail: true,
    });
    const assertion = await signer.sign({
      aud: target.assertionAudience,
      email: outcome.email,
      sub: `accounts.google.com:${outcome.userId}`,
    });
    return {
      serverlessAuthorization: `bearer ${agentToken}`,
      trustedHeaders: {
        "x-goog-iap-jwt-assertion": assertion,
        "x-goog-authenticated-user-email": `accounts.google.com:${outcome.email}`,
        "x-goog-authenticated-user-id": `accounts.google.com:${outcome.userId}`,
      },
    };
  }

  return {
    /**
     * IAP in front of `service`: answers its own paths (sign-in callback, sign-out) and every refusal itself,
     * or lets the request through as IAP's service agent and returns the identity headers to forward with.
     */
    async admit(
      req: IncomingMessage,
      res: ServerResponse,
      service: RoutedService,
      target: IapTarget,
    ): Promise<Record<string, string> | undefined> {
      const url = parseRequestUrl(req.url ?? "/", "http://iap");
      if (!url) {
        req.resume();
        res.writeHead(400, { "content-type": "text/html; charset=UTF-8", connection: "close", ...IAP_GENERATED });
        res.end(badRequestPage());
        return undefined;
      }
      if (signIn.isOwnPath(url)) {
        await signIn.serveOwnPath(req, res, url, target);
        return undefined;
      }
      const outcome = await check(req, res, target);
      if (!outcome.pass) return undefined;
      const vouched = await vouch(res, service, target, outcome);
      if (!vouched) return undefined;
      prepareForService(req, vouched.serverlessAuthorization);
      return vouched.trustedHeaders;
    },
  };
}

export type IapCheck = ReturnType<typeof createIapCheck>;
