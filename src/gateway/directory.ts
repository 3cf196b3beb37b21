// The front end's view of the services: a routing table kept in memory and refreshed from the store's change
// feed, so the data plane never calls the control plane and never waits on the database per request.
import type { Store } from "../store/store.js";
import type { Project } from "../accounts/projects.js";
import type { Ingress, StoredService } from "../run/types.js";
import { urlsOf } from "../run/render.js";
import { revisionResource } from "../run/services.js";

export interface RoutedService {
  resource: string;
  projectId: string;
  projectNumber: string;
  region: string;
  name: string;
  urls: string[];
  /** Exact `aud` values accepted: each URL with and without a trailing slash, plus custom audiences. */
  audiences: ReadonlySet<string>;
  ingress: Ingress;
  invokerIamDisabled: boolean;
  /** IAP turned on directly on the service (`gcloud beta run deploy --iap`). */
  iapEnabled: boolean;
  /** Resource name of the revision that serves traffic. */
  revision: string | undefined;
  timeoutMs: number;
}

export interface ServiceDirectory {
  byHost(host: string): RoutedService | undefined;
  byResource(resource: string): RoutedService | undefined;
  all(): RoutedService[];
  close(): void;
}

function customAudiences(service: StoredService): string[] {
  const raw = service.annotations["run.googleapis.com/custom-audiences"];
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((a): a is string => typeof a === "string") : [];
  } catch {
    return [];
  }
}

export function routeOf(service: StoredService, projectNumber: string): RoutedService {
  const urls = urlsOf(service, projectNumber);
  const audiences = new Set<string>([...urls, ...urls.map((u) => `${u}/`), ...customAudiences(service)]);
  const latest = service.latestReadyRevision;
  return {
    resource: service.resource,
    projectId: service.projectId,
    projectNumber,
    region: service.region,
    name: service.name,
    urls,
    audiences,
    ingress: (service.annotations["run.googleapis.com/ingress"] as Ingress | undefined) ?? "all",
    invokerIamDisabled: /^true$/i.test(service.annotations["run.googleapis.com/invoker-iam-disabled"] ?? ""),
    iapEnabled: /^true$/i.test(service.annotations["run.googleapis.com/iap-enabled"] ?? ""),
    revision: latest ? revisionResource(service, latest) : undefined,
    timeoutMs: (service.template.spec.timeoutSeconds ?? 300) * 1000,
  };
}

export async function createServiceDirectory(store: Store): Promise<ServiceDirectory> {
  const numbers = new Map<string, string>();
  const byResource = new Map<string, RoutedService>();
  const byHost = new Map<string, RoutedService>();

  const index = (route: RoutedService) => {
    byResource.set(route.resource, route);
    for (const url of route.urls) byHost.set(new URL(url).hostname, route);
  };
  const unindex = (resource: string) => {
    const old = byResource.get(resource);
    if (!old) return;
    byResource.delete(resource);
    for (const url of old.urls) byHost.delete(new URL(url).hostname);
  };
  const upsert = (service: StoredService) => {
    unindex(service.resource);
    const number = numbers.get(service.projectId);
    if (number) index(routeOf(service, number));
  };

  for (const project of await store.list<Project>("project")) numbers.set(project.projectId, project.projectNumber);
  for (const service of await store.list<StoredService>("service")) upsert(service);
  const unsubscribe = store.onChange((change) => {
    if (change.kind === "project" && change.value) {
      const project = change.value as Project;
      numbers.set(project.projectId, project.projectNumber);
    } else if (change.kind === "service") {
      if (change.value) upsert(change.value as StoredService);
      else unindex(change.name);
    }
  });
  return {
    byHost: (host) => byHost.get(host),
    byResource: (resource) => byResource.get(resource),
    all: () => [...byResource.values()],
    close: unsubscribe,
  };
}
