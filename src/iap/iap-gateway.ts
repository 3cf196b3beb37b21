// The load balancer's listener with Identity-Aware Proxy. A domain maps to a backend service whose serverless
// NEG points at a Cloud Run service. With IAP on, the caller is checked (iap-check.ts); IAP then calls the
// service as its service agent (X-Serverless-Authorization, checked by the front end like any caller) and
// vouches for the user with signed headers.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Platform } from "../core/platform.js";
import type { ServiceDirectory } from "../gateway/directory.js";
import type { FrontEnd } from "../gateway/front-end.js";
import { badRequestPage, notFoundPage } from "../gateway/pages.js";
import { parseRequestUrl } from "../core/http-input.js";
import type { TLSSocket } from "node:tls";
import type { StoredBackendService, StoredNeg } from "../load-balancer/types.js";
import { backendFor } from "../load-balancer/routing.js";
import type { IapCheck, IapTarget } from "./iap-check.js";
import { dropClientIdentityHeaders } from "./request-headers.js";
import { IAP_GENERATED } from "./pages.js";

export function backendTarget(backend: StoredBackendService, projectNumber: string): IapTarget {
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

export interface IapGatewayOptions {
  platform: Platform;
  directory: ServiceDirectory;
  frontEnd: FrontEnd;
  iap: IapCheck;
}

export function createIapGateway(options: IapGatewayOptions) {
  const { platform } = options;
  const host = (req: IncomingMessage) => (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();

  async function route(req: IncomingMessage, path: string) {
    const protocol = (req.socket as Partial<TLSSocket>).encrypted === true ? "HTTPS" : "HTTP";
    const backendName = await backendFor(platform.store, protocol, host(req), path);
    const backend = backendName
      ? await platform.store.get<StoredBackendService>("backendService", backendName)
      : undefined;
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
    const url = parseRequestUrl(req.url ?? "/", "http://lb");
    if (!url) {
      req.resume();
      res.writeHead(400, { "content-type": "text/html; charset=UTF-8", connection: "close" });
      res.end(badRequestPage());
      return;
    }
    const found = await route(req, url.pathname);
    if (!found) {
      req.resume();
      res.writeHead(404, { "content-type": "text/html; charset=UTF-8", ...IAP_GENERATED });
      res.end(notFoundPage(req.url ?? "/"));
      return;
    }
    const { backend, service } = found;
    dropClientIdentityHeaders(req);
    const source = { kind: "load-balancer" as const, projectId: service.projectId };
    if (!backend.iap.enabled) return options.frontEnd(req, res, { pinned: service, source });

    const trustedHeaders = await options.iap.admit(req, res, service, backendTarget(backend, service.projectNumber));
    if (trustedHeaders) options.frontEnd(req, res, { pinned: service, source, trustedHeaders });
  };
}
