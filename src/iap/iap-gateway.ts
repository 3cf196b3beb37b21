// The load balancer's listener with Identity-Aware Proxy. A domain maps to a backend service whose serverless
// NEG points at a Cloud Run service. With IAP on, a caller needs an ID token for IAP's OAuth client and
// roles/iap.httpsResourceAccessor; IAP then calls the service as its service agent (X-Serverless-Authorization,
// checked by the front end like any caller) and vouches for the user with signed headers.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Platform } from "../core/platform.js";
import type { ServiceDirectory } from "../gateway/directory.js";
import type { FrontEnd } from "../gateway/front-end.js";
import { extractCredential } from "../gateway/credentials.js";
import { notFoundPage } from "../gateway/pages.js";
import { serviceAgentEmail } from "../accounts/service-agents.js";
import type { ServiceAccount } from "../accounts/service-accounts.js";
import { ensureUser } from "../accounts/users.js";
import type { StoredBackendService, StoredLoadBalancer, StoredNeg } from "./load-balancer-types.js";
import type { IapSigner } from "./iap-jwt.js";
import { IAP_GENERATED, forbiddenPage } from "./pages.js";
import { buildAuditEntry } from "../audit/audit-log.js";

const CLIENT_IDENTITY_HEADERS = [
  "x-goog-iap-jwt-assertion",
  "x-goog-authenticated-user-email",
  "x-goog-authenticated-user-id",
  "x-serverless-authorization",
];

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "text/html; charset=UTF-8", ...IAP_GENERATED, ...headers });
  res.end(body);
}

/** Replaces or adds a header in both views Node keeps of a request (the front end reads rawHeaders). */
function setRequestHeader(req: IncomingMessage, name: string, value: string | undefined): void {
  const raw: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if ((req.rawHeaders[i] as string).toLowerCase() !== name)
      raw.push(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  }
  if (value !== undefined) raw.push(name, value);
  req.rawHeaders.splice(0, req.rawHeaders.length, ...raw);
  if (value === undefined) delete req.headers[name];
  else req.headers[name] = value;
}

/** IAP decisions are audited as Data Access entries of iap.googleapis.com, granted or not. */
async function auditIapDecision(
  platform: Platform,
  backend: StoredBackendService,
  email: string,
  granted: boolean,
): Promise<void> {
  const entry = buildAuditEntry(
    {
      projectId: backend.projectId,
      logType: "data_access",
      serviceName: "iap.googleapis.com",
      methodName: "AuthorizeUser",
      resourceName: backend.resource,
      principal: email.endsWith(".gserviceaccount.com") ? { kind: "serviceAccount", email } : { kind: "user", email },
      authorizationInfo: [{ resource: backend.resource, permission: "iap.webServiceVersions.accessViaIAP", granted }],
      ...(granted ? {} : { error: { status: "PERMISSION_DENIED", message: "IAP denied access." } }),
      resource: {
        type: "gce_backend_service",
        labels: { project_id: backend.projectId, backend_service_id: backend.id },
      },
    },
    platform.clock.now(),
  );
  await platform.store.appendLog(entry).catch(() => undefined);
}

export interface IapGatewayOptions {
  platform: Platform;
  directory: ServiceDirectory;
  frontEnd: FrontEnd;
  signer: IapSigner;
}

export function createIapGateway(options: IapGatewayOptions) {
  const { platform } = options;
  const host = (req: IncomingMessage) => (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();

  async function route(domain: string) {
    const lbs = await platform.store.list<StoredLoadBalancer>("loadBalancer");
    const lb = lbs.find((l) => l.domain === domain);
    if (!lb) return undefined;
    const backend = await platform.store.get<StoredBackendService>("backendService", lb.backendService);
    const neg = backend?.backends[0]
      ? await platform.store.get<StoredNeg>("networkEndpointGroup", backend.backends[0])
      : undefined;
    const service = neg
      ? options.directory.byResource(
          `projects/${neg.projectId}/locations/${neg.region}/services/${neg.cloudRunService}`,
        )
      : undefined;
    return backend && service ? { backend, service } : undefined;
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = await route(host(req));
    if (!target) {
      req.resume();
      return send(res, 404, notFoundPage(req.url ?? "/"));
    }
    const { backend, service } = target;
    for (const name of CLIENT_IDENTITY_HEADERS) setRequestHeader(req, name, undefined);
    const source = { kind: "load-balancer" as const, projectId: service.projectId };
    if (!backend.iap.enabled) return options.frontEnd(req, res, { pinned: service, source });

    const credential = extractCredential(req.rawHeaders);
    if (credential.kind !== "bearer") {
      req.resume();
      return send(res, 401, "Invalid IAP credentials: empty token", { "content-type": "text/plain" });
    }
    const verdict = await platform.tokens.verifyIdToken(credential.token, () => true);
    if (!verdict.ok)
      return send(res, 401, "Invalid IAP credentials: JWT signature is invalid", { "content-type": "text/plain" });
    if (verdict.claims.aud !== backend.iap.oauth2ClientId)
      return send(res, 401, "Invalid JWT audience", { "content-type": "text/plain" });
    const principal = verdict.principal;
    const granted = platform.engine.decide(principal, "iap.webServiceVersions.accessViaIAP", backend.resource).allowed;
    await auditIapDecision(platform, backend, principal.email, granted);
    if (!granted) {
      req.resume();
      return send(res, 403, forbiddenPage());
    }
    const agentEmail = serviceAgentEmail(service.projectNumber, "iap.googleapis.com");
    const agent = await platform.store.get<ServiceAccount>(
      "serviceAccount",
      `projects/${service.projectId}/serviceAccounts/${agentEmail}`,
    );
    if (!agent) {
      req.resume();
      return send(
        res,
        500,
        "The IAP service account is not provisioned. Run: gcloud beta services identity create --service=iap.googleapis.com",
        { "content-type": "text/plain" },
      );
    }
    const agentToken = await platform.tokens.signIdToken({
      principal: { kind: "serviceAccount", email: agentEmail },
      uniqueId: agent.uniqueId,
      audience: service.urls[0] ?? "",
      includeEmail: true,
    });
    const userId =
      principal.kind === "user" ? (await ensureUser(platform, principal.email)).uniqueId : verdict.claims.sub;
    const assertion = await options.signer.sign({
      aud: `/projects/${service.projectNumber}/global/backendServices/${backend.id}`,
      email: principal.email,
      sub: `accounts.google.com:${userId}`,
    });
    setRequestHeader(req, "x-serverless-authorization", `bearer ${agentToken}`);
    options.frontEnd(req, res, {
      pinned: service,
      source,
      trustedHeaders: {
        "x-goog-iap-jwt-assertion": assertion,
        "x-goog-authenticated-user-email": `accounts.google.com:${principal.email}`,
        "x-goog-authenticated-user-id": `accounts.google.com:${userId}`,
      },
    });
  };
}
