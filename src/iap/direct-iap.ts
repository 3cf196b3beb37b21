// IAP turned on directly on a Cloud Run service (`gcloud beta run deploy --iap`, the annotation
// run.googleapis.com/iap-enabled): it protects the run.app URLs themselves. Cloud Run's order is kept: ingress,
// then IAP, then IAM, which here checks IAP's service agent (fidelity reference §8.1).
import { createHash } from "node:crypto";
import type { RoutedService, ServiceDirectory } from "../gateway/directory.js";
import type { IapTarget } from "./iap-check.js";

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
