// The front end's view of the services: a routing table kept in memory and refreshed from the store's change
// feed, so the data plane never calls the control plane and never waits on the database per request.
import type { Store } from "../store/store.js";
import type { Project } from "../accounts/projects.js";
import type { Ingress, StoredService } from "../run/types.js";
import { urlPartsOf, urlsOf } from "../run/render.js";
import { revisionResource } from "../run/services.js";
import { revisionOf, tagHosts, trafficOf } from "../run/traffic.js";

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
  /** Resource name of the revision with the largest share (what a request that reaches no instance logs). */
  revision: string | undefined;
  /** The traffic split: revision resource names and their cumulative percents (the last is 100). */
  split: { revisions: readonly string[]; upTo: readonly number[] };
  timeoutMs: number;
}

/** The revision that answers this request: a weighted choice per request, as Cloud Run splits traffic. */
export function pickRevision(service: RoutedService): string | undefined {
  const { revisions, upTo } = service.split;
  if (revisions.length <= 1) return revisions[0];
  const point = Math.random() * 100;
  for (let i = 0; i < revisions.length; i++) if (point < (upTo[i] ?? 0)) return revisions[i];
  return revisions[revisions.length - 1];
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

/** The split of a service's traffic targets; several targets naming one revision add up. */
function splitOf(service: StoredService): RoutedService["split"] {
  const shares = new Map<string, number>();
  for (const target of trafficOf(service)) {
    const revision = revisionOf(target, service);
    if (revision && target.percent) shares.set(revision, (shares.get(revision) ?? 0) + target.percent);
  }
  const revisions: string[] = [];
  const upTo: number[] = [];
  let total = 0;
  for (const [revision, percent] of shares) {
    total += percent;
    revisions.push(revisionResource(service, revision));
    upTo.push(total);
  }
  return { revisions, upTo };
}

/** A tag's route: the service as seen through its tag URLs, always answered by the tagged revision. */
interface TagRoute {
  hosts: string[];
  route: RoutedService;
}

function tagRoutesOf(service: StoredService, main: RoutedService): TagRoute[] {
  const parts = urlPartsOf(service, main.projectNumber);
  return trafficOf(service).flatMap((target) => {
    const revision = revisionOf(target, service);
    if (!target.tag || !revision) return [];
    const hosts = tagHosts(target.tag, parts);
    const resource = revisionResource(service, revision);
    const route: RoutedService = {
      ...main,
      // The deterministic form first, as for the service's own URLs.
      urls: hosts.map((host) => `https://${host}`).reverse(),
      revision: resource,
      split: { revisions: [resource], upTo: [100] },
    };
    return [{ hosts, route }];
  });
}

export function routeOf(service: StoredService, projectNumber: string): RoutedService {
  const urls = urlsOf(service, projectNumber);
  // A tag URL is one of the service's URLs: an ID token for it is accepted, at any of the service's URLs.
  const tagUrls = trafficOf(service).flatMap((target) =>
    target.tag ? tagHosts(target.tag, urlPartsOf(service, projectNumber)).map((host) => `https://${host}`) : [],
  );
  const audiences = new Set<string>([
    ...urls,
    ...urls.map((u) => `${u}/`),
    ...tagUrls,
    ...tagUrls.map((u) => `${u}/`),
    ...customAudiences(service),
  ]);
  const split = splitOf(service);
  const shareAt = (i: number) => (split.upTo[i] ?? 0) - (split.upTo[i - 1] ?? 0);
  let largest = 0;
  for (let i = 1; i < split.revisions.length; i++) if (shareAt(i) > shareAt(largest)) largest = i;
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
    revision: split.revisions[largest],
    split,
    timeoutMs: (service.template.spec.timeoutSeconds ?? 300) * 1000,
  };
}

export async function createServiceDirectory(store: Store): Promise<ServiceDirectory> {
  const numbers = new Map<string, string>();
  const byResource = new Map<string, RoutedService>();
  const byHost = new Map<string, RoutedService>();
  /** Every host a service answers on (its URLs and its tags' URLs), to unindex it. */
  const hostsOf = new Map<string, string[]>();

  const index = (service: StoredService, route: RoutedService) => {
    byResource.set(route.resource, route);
    const hosts = route.urls.map((url) => new URL(url).hostname);
    for (const host of hosts) byHost.set(host, route);
    for (const tag of tagRoutesOf(service, route)) {
      for (const host of tag.hosts) byHost.set(host, tag.route);
      hosts.push(...tag.hosts);
    }
    hostsOf.set(route.resource, hosts);
  };
  const unindex = (resource: string) => {
    byResource.delete(resource);
    for (const host of hostsOf.get(resource) ?? []) byHost.delete(host);
    hostsOf.delete(resource);
  };
  const upsert = (service: StoredService) => {
    unindex(service.resource);
    const number = numbers.get(service.projectId);
    if (number) index(service, routeOf(service, number));
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
