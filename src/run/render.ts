// Knative JSON as Cloud Run returns it: what gcloud reads for its output (see gcloud-wire.md §3.5).
import { serviceUrls, type ServiceUrlParts } from "./urls.js";
import { trafficOf, trafficStatus } from "./traffic.js";
import type { StoredRevision, StoredService } from "./types.js";

export const urlPartsOf = (service: StoredService, projectNumber: string): ServiceUrlParts => ({
  service: service.name,
  projectNumber,
  region: service.region,
  urlHash: service.urlHash,
});

export function urlsOf(service: StoredService, projectNumber: string): string[] {
  return serviceUrls(urlPartsOf(service, projectNumber));
}

export function ingressOf(service: StoredService): string {
  return service.annotations["run.googleapis.com/ingress"] ?? "all";
}

export function renderService(service: StoredService, projectNumber: string) {
  const urls = urlsOf(service, projectNumber);
  const hashUrl = urls[urls.length - 1] ?? "";
  const ready = service.ready;
  const condition = (type: string) => ({
    type,
    status: ready.status,
    ...(ready.reason ? { reason: ready.reason } : {}),
    ...(ready.message ? { message: ready.message } : {}),
    lastTransitionTime: ready.lastTransitionTime,
  });
  return {
    apiVersion: "serving.knative.dev/v1",
    kind: "Service",
    metadata: {
      name: service.name,
      namespace: projectNumber,
      selfLink: `/apis/serving.knative.dev/v1/namespaces/${projectNumber}/services/${service.name}`,
      uid: service.uid,
      resourceVersion: service.resourceVersion,
      generation: service.generation,
      creationTimestamp: service.createTime,
      labels: { ...service.labels, "cloud.googleapis.com/location": service.region },
      annotations: {
        ...service.annotations,
        "serving.knative.dev/creator": service.creator,
        "serving.knative.dev/lastModifier": service.lastModifier,
        "run.googleapis.com/ingress": ingressOf(service),
        "run.googleapis.com/ingress-status": ingressOf(service),
        "run.googleapis.com/urls": JSON.stringify(urls),
      },
    },
    spec: { template: service.template, traffic: trafficOf(service) },
    status: {
      observedGeneration: service.generation,
      conditions: [condition("Ready"), condition("ConfigurationsReady"), condition("RoutesReady")],
      latestCreatedRevisionName: service.latestCreatedRevision,
      ...(service.latestReadyRevision ? { latestReadyRevisionName: service.latestReadyRevision } : {}),
      traffic: trafficStatus(service, urlPartsOf(service, projectNumber)),
      url: hashUrl,
      address: { url: hashUrl },
    },
  };
}

export function renderRevision(revision: StoredRevision, projectNumber: string) {
  return {
    apiVersion: "serving.knative.dev/v1",
    kind: "Revision",
    metadata: {
      name: revision.name,
      namespace: projectNumber,
      selfLink: `/apis/serving.knative.dev/v1/namespaces/${projectNumber}/revisions/${revision.name}`,
      uid: revision.uid,
      generation: 1,
      creationTimestamp: revision.createTime,
      labels: {
        ...(revision.template.metadata?.labels ?? {}),
        "serving.knative.dev/service": revision.service,
        "serving.knative.dev/configuration": revision.service,
        "serving.knative.dev/configurationGeneration": String(revision.generation),
        "cloud.googleapis.com/location": revision.region,
      },
      annotations: revision.template.metadata?.annotations ?? {},
    },
    spec: revision.template.spec,
    status: {
      observedGeneration: 1,
      conditions: [{ type: "Ready", status: "True", lastTransitionTime: revision.createTime }],
      imageDigest: revision.imageDigest,
      logUrl: "",
    },
  };
}
