// The front end's view of the services and of the load balancer in front of them (routing and IAP settings):
// tables kept in memory and refreshed from the store's change feed, so the data plane never calls the control
// plane and never waits on the database per request.
import type { Kind, Store } from "../store/store.js";
import type { Project } from "../accounts/projects.js";
import type { Ingress, StoredService } from "../run/types.js";
import { urlPartsOf, urlsOf } from "../run/render.js";
import { revisionResource } from "../run/services.js";
import { revisionOf, tagHosts, trafficOf } from "../run/traffic.js";
import type {
  StoredBackendService,
  StoredForwardingRule,
  StoredLoadBalancer,
  StoredNeg,
  StoredTargetProxy,
  StoredUrlMap,
} from "../load-balancer/types.js";
import { backendFor, servedUrlMaps } from "../load-balancer/routing.js";

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

/** Where the load balancer sends a request: the backend service (with its IAP settings) and its Cloud Run service. */
export interface LoadBalancerRoute {
  backend: StoredBackendService;
  service: RoutedService;
}

export interface ServiceDirectory {
  /** `host` as hostOf gives it. */
  byHost(host: string): RoutedService | undefined;
  byResource(resource: string): RoutedService | undefined;
  all(): RoutedService[];
  /** The route of a request on the load balancer's listener for `protocol`. */
  loadBalancerRoute(protocol: "HTTP" | "HTTPS", host: string, path: string): LoadBalancerRoute | undefined;
  close(): void;
}

/** The Host header's name without its port, lower-cased: what services are looked up by. */
export function hostOf(hostHeader: string | undefined): string {
  return (hostHeader ?? "").replace(/:\d+$/, "").toLowerCase();
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

const LOAD_BALANCER_KINDS = [
  "loadBalancer",
  "forwardingRule",
  "targetProxy",
  "urlMap",
  "backendService",
  "networkEndpointGroup",
] as const satisfies readonly Kind[];
type LoadBalancerKind = (typeof LOAD_BALANCER_KINDS)[number];

const isLoadBalancerKind = (kind: string): kind is LoadBalancerKind =>
  (LOAD_BALANCER_KINDS as readonly string[]).includes(kind);

/** What routing on the load balancer reads, derived from its documents after each change. */
interface LoadBalancerTables {
  mappedDomains: StoredLoadBalancer[];
  servedMaps: Record<"HTTP" | "HTTPS", StoredUrlMap[]>;
}

export async function createServiceDirectory(store: Store): Promise<ServiceDirectory> {
  const numbers = new Map<string, string>();
  const byResource = new Map<string, RoutedService>();
  const byHost = new Map<string, RoutedService>();
  /** Every host a service answers on (its URLs and its tags' URLs), to unindex it. */
  const hostsOf = new Map<string, string[]>();
  /** The load balancer's documents by kind, each by resource name. */
  const lbDocuments = new Map<LoadBalancerKind, Map<string, unknown>>(LOAD_BALANCER_KINDS.map((k) => [k, new Map()]));
  let lbTables: LoadBalancerTables | undefined;

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
  const documents = <T>(kind: LoadBalancerKind) => lbDocuments.get(kind) as Map<string, T>;
  /** A kind's documents ordered by name, as the store lists them. */
  const listed = <T>(kind: LoadBalancerKind): T[] =>
    [...documents<T>(kind).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, value]) => value);
  const tables = (): LoadBalancerTables => {
    if (lbTables) return lbTables;
    const config = {
      forwardingRules: listed<StoredForwardingRule>("forwardingRule"),
      targetProxies: listed<StoredTargetProxy>("targetProxy"),
      urlMaps: listed<StoredUrlMap>("urlMap"),
    };
    lbTables = {
      mappedDomains: listed<StoredLoadBalancer>("loadBalancer"),
      servedMaps: { HTTP: servedUrlMaps(config, "HTTP"), HTTPS: servedUrlMaps(config, "HTTPS") },
    };
    return lbTables;
  };

  /** Everything from the store at once (at start, and when another process changed the store). */
  const load = async () => {
    const projects = await store.list<Project>("project");
    const services = await store.list<StoredService>("service");
    const lbLists = await Promise.all(LOAD_BALANCER_KINDS.map((kind) => store.list<{ resource: string }>(kind)));
    numbers.clear();
    for (const project of projects) numbers.set(project.projectId, project.projectNumber);
    for (const resource of [...byResource.keys()]) unindex(resource);
    for (const service of services) upsert(service);
    LOAD_BALANCER_KINDS.forEach((kind, i) =>
      lbDocuments.set(kind, new Map((lbLists[i] ?? []).map((document) => [document.resource, document]))),
    );
    lbTables = undefined;
  };

  await load();
  const unsubscribe = store.onChange((change) => {
    if (change.kind === "*") {
      void load().catch(() => undefined);
    } else if (change.kind === "project" && change.value) {
      const project = change.value as Project;
      numbers.set(project.projectId, project.projectNumber);
    } else if (change.kind === "service") {
      if (change.value) upsert(change.value as StoredService);
      else unindex(change.name);
    } else if (isLoadBalancerKind(change.kind)) {
      if (change.value) documents(change.kind).set(change.name, change.value);
      else documents(change.kind).delete(change.name);
      lbTables = undefined;
    }
  });
  return {
    byHost: (host) => byHost.get(host),
    byResource: (resource) => byResource.get(resource),
    all: () => [...byResource.values()],
    loadBalancerRoute(protocol, host, path) {
      const { mappedDomains, servedMaps } = tables();
      const backendName = backendFor(mappedDomains, servedMaps[protocol], host, path);
      const backend = backendName ? documents<StoredBackendService>("backendService").get(backendName) : undefined;
      const negName = backend?.backends[0];
      const neg = negName ? documents<StoredNeg>("networkEndpointGroup").get(negName) : undefined;
      const service = neg
        ? byResource.get(`projects/${neg.projectId}/locations/${neg.region}/services/${neg.cloudRunService}`)
        : undefined;
      return backend && service ? { backend, service } : undefined;
    },
    close: unsubscribe,
  };
}
