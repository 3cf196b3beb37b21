// IAP turned on directly on a Cloud Run service (`gcloud beta run deploy --iap`, the annotation
// run.googleapis.com/iap-enabled): it protects the run.app URLs themselves. Cloud Run's order is kept: ingress,
// then IAP, then IAM, which here checks IAP's service agent (fidelity reference §8.1).
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RoutedService, ServiceDirectory } from "../gateway/directory.js";
import type { FrontEnd, RouteOptions } from "../gateway/front-end.js";
import { admitsSource } from "../gateway/ingress.js";
import type { IapCheck, IapTarget } from "./iap-check.js";
import type { SignInFlow } from "./sign-in-flow.js";
import { dropClientIdentityHeaders, prepareForService } from "./request-headers.js";

/** The Google-managed OAuth client IAP uses for a service: the audience of programmatic callers' ID tokens. */
export const serviceIapClientId = (projectNumber: string, region: string, name: string) =>
  `${projectNumber}-run-${region}-${name}-iap.apps.googleusercontent.com`;

/** IAP's own name for a Cloud Run service, where roles/iap.httpsResourceAccessor can be granted. */
export const serviceIapResource = (projectId: string, region: string, name: string) =>
  `projects/${projectId}/iap_web/cloud_run-${region}/services/${name}`;

export function serviceTarget(service: RoutedService): IapTarget {
  const resource = serviceIapResource(service.projectId, service.region, service.name);
  return {
    resource,
    id: createHash("sha256").update(resource).digest("hex").slice(0, 16),
    clientId: serviceIapClientId(service.projectNumber, service.region, service.name),
    projectId: service.projectId,
    assertionAudience: `/projects/${service.projectNumber}/locations/${service.region}/services/${service.name}`,
    auditResource: {
      type: "cloud_run_revision",
      labels: { project_id: service.projectId, service_name: service.name, location: service.region },
    },
  };
}

const hostOf = (req: IncomingMessage) => (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();

/** Wraps the front end: services without direct IAP go straight through, untouched. */
export function withDirectIap(
  frontEnd: FrontEnd,
  options: { directory: ServiceDirectory; iap: IapCheck; signIn: SignInFlow },
): FrontEnd {
  async function guard(req: IncomingMessage, res: ServerResponse, service: RoutedService, route: RouteOptions) {
    dropClientIdentityHeaders(req);
    const target = serviceTarget(service);
    const url = new URL(req.url ?? "/", "http://service");
    if (options.signIn.isOwnPath(url)) return options.signIn.serveOwnPath(req, res, url, target);
    const outcome = await options.iap.check(req, res, target);
    if (!outcome.pass) return;
    const vouched = await options.iap.vouch(res, service, target, outcome);
    if (!vouched) return;
    prepareForService(req, vouched.serverlessAuthorization);
    frontEnd(req, res, { ...route, pinned: service, trustedHeaders: vouched.trustedHeaders });
  }

  return (req, res, route = {}) => {
    const service = route.pinned ?? options.directory.byHost(hostOf(req));
    // Unknown hosts and ingress refusals are the front end's to answer (404, before IAP).
    if (!service?.iapEnabled || !admitsSource(service.ingress, route.source ?? { kind: "external" }, service.projectId))
      return frontEnd(req, res, route);
    guard(req, res, service, route).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
}

/** The sign-in callback hosts of every service with direct IAP: its run.app host names. */
export function directIapClientHosts(directory: ServiceDirectory): Map<string, string[]> {
  const clients = new Map<string, string[]>();
  for (const service of directory.all())
    if (service.iapEnabled)
      clients.set(
        serviceIapClientId(service.projectNumber, service.region, service.name),
        service.urls.map((url) => new URL(url).hostname),
      );
  return clients;
}
