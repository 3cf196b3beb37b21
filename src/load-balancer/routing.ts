// Which backend service answers a request on the load balancer: a domain mapped with `runguard lb map` first,
// then the URL maps that forwarding rules serve on this listener's protocol (host rules, then the longest
// matching path rule, then the defaults). Every forwarding rule shares runguard's listeners, so when no host
// rule matches, the oldest live URL map's default service answers.
import type { Store } from "../store/store.js";
import type {
  StoredForwardingRule,
  StoredLoadBalancer,
  StoredSslCertificate,
  StoredTargetProxy,
  StoredUrlMap,
} from "./types.js";

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === "*") return true;
  return pattern.startsWith("*.") ? host.endsWith(pattern.slice(1)) : pattern === host;
}

function pathMatches(pattern: string, path: string): number {
  if (pattern.endsWith("/*"))
    return path.startsWith(pattern.slice(0, -1)) || path === pattern.slice(0, -2) ? pattern.length : -1;
  return pattern === path ? pattern.length + 1 : -1;
}

/** The backend service of one URL map for a host and path. */
export function routeInUrlMap(map: StoredUrlMap, host: string, path: string): string | undefined {
  const rule = map.hostRules.find((r) => r.hosts.some((h) => hostMatches(h, host)));
  if (!rule) return undefined;
  const matcher = map.pathMatchers.find((m) => m.name === rule.pathMatcher);
  if (!matcher) return map.defaultService;
  let best: { length: number; service: string } | undefined;
  for (const pathRule of matcher.pathRules)
    for (const pattern of pathRule.paths) {
      const length = pathMatches(pattern, path);
      if (length >= 0 && (!best || length > best.length)) best = { length, service: pathRule.service };
    }
  return best?.service ?? matcher.defaultService;
}

/** The load balancer's configuration routing reads, each list ordered by name (as the store lists them). */
export interface RoutingConfig {
  forwardingRules: readonly StoredForwardingRule[];
  targetProxies: readonly StoredTargetProxy[];
  urlMaps: readonly StoredUrlMap[];
}

/** The URL maps served on a protocol's listener (by a forwarding rule and a proxy of that protocol), oldest first. */
export function servedUrlMaps(config: RoutingConfig, protocol: "HTTP" | "HTTPS"): StoredUrlMap[] {
  const served = new Set(
    config.targetProxies
      .filter((p) => p.protocol === protocol && config.forwardingRules.some((r) => r.target === p.resource))
      .map((p) => p.urlMap),
  );
  return config.urlMaps
    .filter((m) => served.has(m.resource))
    .sort((a, b) => a.creationTimestamp.localeCompare(b.creationTimestamp));
}

async function liveUrlMaps(store: Store, protocol: "HTTP" | "HTTPS"): Promise<StoredUrlMap[]> {
  const forwardingRules = await store.list<StoredForwardingRule>("forwardingRule");
  const targetProxies = await store.list<StoredTargetProxy>("targetProxy");
  const urlMaps = await store.list<StoredUrlMap>("urlMap");
  return servedUrlMaps({ forwardingRules, targetProxies, urlMaps }, protocol);
}

/**
 * The backend service answering `host` and `path`: a mapped domain (the first by name), else the first served
 * URL map (oldest first) with a matching host rule, else the oldest one's default service.
 */
export function backendFor(
  mappedDomains: readonly StoredLoadBalancer[],
  servedMaps: readonly StoredUrlMap[],
  host: string,
  path: string,
): string | undefined {
  const mapped = mappedDomains.find((lb) => lb.domain === host);
  if (mapped) return mapped.backendService;
  for (const map of servedMaps) {
    const backend = routeInUrlMap(map, host, path);
    if (backend) return backend;
  }
  return servedMaps[0]?.defaultService;
}

/** Host names a backend service is served on: mapped domains, the host rules of URL maps that route to it, and
 * the domains of the managed certificates on the HTTPS proxies in front of those URL maps. */
export async function hostsServing(store: Store, backend: string): Promise<string[]> {
  const mapped = (await store.list<StoredLoadBalancer>("loadBalancer"))
    .filter((lb) => lb.backendService === backend)
    .map((lb) => lb.domain);
  const proxies = await store.list<StoredTargetProxy>("targetProxy");
  const certificates = await store.list<StoredSslCertificate>("sslCertificate");
  const routesTo = (map: StoredUrlMap) =>
    map.defaultService === backend ||
    map.pathMatchers.some((m) => m.defaultService === backend || m.pathRules.some((r) => r.service === backend));
  const maps = [...(await liveUrlMaps(store, "HTTPS")), ...(await liveUrlMaps(store, "HTTP"))].filter(routesTo);
  const hosts = maps.flatMap((map) => [
    ...map.hostRules.flatMap((rule) => rule.hosts.filter((h) => !h.includes("*"))),
    ...proxies
      .filter((p) => p.urlMap === map.resource)
      .flatMap((p) => certificates.filter((c) => p.sslCertificates.includes(c.resource)).flatMap((c) => c.domains)),
  ]);
  return [...new Set([...mapped, ...hosts])];
}
