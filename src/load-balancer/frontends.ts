// The front half of an external Application Load Balancer: URL maps (hosts and paths to backend services),
// target HTTP(S) proxies, forwarding rules and Google-managed SSL certificates. A URL map serves traffic once a
// forwarding rule points at a proxy that uses it; runguard's listeners stand for every forwarding rule.
import type { CallContext } from "../iam/call-context.js";
import type { Clock } from "../core/clock.js";
import type { Store } from "../store/store.js";
import type { Kind } from "../store/store.js";
import { ApiError, invalidArgument, notFound, unimplemented } from "../core/errors.js";
import { fingerprint, insertNew, requireComputeName, resourceOfLink } from "./compute-resources.js";
import { numericId } from "../core/ids.js";
import { toRfc3339 } from "../core/clock.js";
import type {
  StoredAddress,
  StoredForwardingRule,
  StoredSslCertificate,
  StoredTargetProxy,
  StoredUrlMap,
} from "./types.js";

/** What this module's operations use. */
export interface FrontendsDeps {
  readonly clock: Clock;
  readonly store: Store;
}

export interface FrontendKind {
  kind: Kind;
  /** Collection in the URL: urlMaps, targetHttpsProxies, ... */
  collection: string;
  /** Permission prefix: compute.urlMaps, compute.targetHttpsProxies, ... */
  permissions: string;
}

export const URL_MAPS: FrontendKind = { kind: "urlMap", collection: "urlMaps", permissions: "compute.urlMaps" };
export const HTTP_PROXIES: FrontendKind = {
  kind: "targetProxy",
  collection: "targetHttpProxies",
  permissions: "compute.targetHttpProxies",
};
export const HTTPS_PROXIES: FrontendKind = {
  kind: "targetProxy",
  collection: "targetHttpsProxies",
  permissions: "compute.targetHttpsProxies",
};
export const FORWARDING_RULES: FrontendKind = {
  kind: "forwardingRule",
  collection: "forwardingRules",
  permissions: "compute.globalForwardingRules",
};
export const SSL_CERTIFICATES: FrontendKind = {
  kind: "sslCertificate",
  collection: "sslCertificates",
  permissions: "compute.sslCertificates",
};

export const ADDRESSES: FrontendKind = {
  kind: "address",
  collection: "addresses",
  permissions: "compute.globalAddresses",
};

/** Where runguard's load balancer listens, whatever address a forwarding rule or reservation names. */
export const LOAD_BALANCER_ADDRESS = "127.0.0.1";

export const globalResource = (projectId: string, of: FrontendKind, name: string) =>
  `projects/${projectId}/global/${of.collection}/${name}`;

async function requireExisting(deps: FrontendsDeps, kind: Kind, link: unknown, what: string): Promise<string> {
  const resource = resourceOfLink(link);
  if (!resource || !(await deps.store.get(kind, resource)))
    throw notFound(`The resource '${resource || what}' was not found`);
  return resource;
}

function base(projectId: string, of: FrontendKind, body: Record<string, unknown>, deps: FrontendsDeps) {
  const name = requireComputeName(String(body["name"] ?? ""));
  return {
    resource: globalResource(projectId, of, name),
    projectId,
    name,
    id: numericId().slice(0, 19),
    creationTimestamp: toRfc3339(deps.clock.now()),
  };
}

/** A forwarding rule's address: a literal IP is kept as given; a reserved address (by link) must exist. */
async function addressOf(deps: FrontendsDeps, given: unknown): Promise<string> {
  if (given === undefined || given === "") return LOAD_BALANCER_ADDRESS;
  const text = String(given);
  if (/^[\d.]+$|^[\da-f:]+$/i.test(text)) return text;
  const resource = resourceOfLink(text);
  const reserved = await deps.store.get<StoredAddress>("address", resource);
  if (!reserved) throw notFound(`The resource '${resource}' was not found`);
  return reserved.address;
}

async function urlMapFields(deps: FrontendsDeps, body: Record<string, unknown>) {
  const defaultService = await requireExisting(deps, "backendService", body["defaultService"], "defaultService");
  const pathMatchers = await Promise.all(
    ((body["pathMatchers"] as Array<Record<string, unknown>> | undefined) ?? []).map(async (m) => ({
      name: String(m["name"] ?? ""),
      defaultService: await requireExisting(deps, "backendService", m["defaultService"], "defaultService"),
      pathRules: await Promise.all(
        ((m["pathRules"] as Array<Record<string, unknown>> | undefined) ?? []).map(async (r) => ({
          paths: ((r["paths"] as unknown[] | undefined) ?? []).map(String),
          service: await requireExisting(deps, "backendService", r["service"], "service"),
        })),
      ),
    })),
  );
  const hostRules = ((body["hostRules"] as Array<Record<string, unknown>> | undefined) ?? []).map((r) => ({
    hosts: ((r["hosts"] as unknown[] | undefined) ?? []).map((h) => String(h).toLowerCase()),
    pathMatcher: String(r["pathMatcher"] ?? ""),
  }));
  for (const rule of hostRules)
    if (!pathMatchers.some((m) => m.name === rule.pathMatcher))
      throw invalidArgument(
        `Invalid value for field 'resource.hostRules': path matcher '${rule.pathMatcher}' does not exist.`,
      );
  return { defaultService, hostRules, pathMatchers };
}

export async function createFrontend(
  deps: FrontendsDeps,
  ctx: CallContext,
  projectId: string,
  of: FrontendKind,
  body: Record<string, unknown>,
): Promise<{ resource: string }> {
  ctx.authorize(`${of.permissions}.create`, `projects/${projectId}`);
  const common = base(projectId, of, body, deps);
  switch (of) {
    case URL_MAPS:
      return insertNew<StoredUrlMap>(deps, of.kind, {
        ...common,
        ...(await urlMapFields(deps, body)),
        fingerprint: fingerprint(),
      });
    case HTTP_PROXIES:
    case HTTPS_PROXIES: {
      const urlMap = await requireExisting(deps, "urlMap", body["urlMap"], "urlMap");
      const sslCertificates = await Promise.all(
        ((body["sslCertificates"] as unknown[] | undefined) ?? []).map((c) =>
          requireExisting(deps, "sslCertificate", c, "sslCertificates"),
        ),
      );
      if (of === HTTPS_PROXIES && sslCertificates.length === 0)
        throw invalidArgument(
          "Invalid value for field 'resource.sslCertificates': ''. At least one SSL certificate must be specified.",
        );
      const protocol = of === HTTPS_PROXIES ? "HTTPS" : "HTTP";
      return insertNew<StoredTargetProxy>(deps, of.kind, { ...common, protocol, urlMap, sslCertificates });
    }
    case FORWARDING_RULES: {
      const target = resourceOfLink(body["target"]);
      if (!/\/global\/targetHttps?Proxies\//.test(target) || !(await deps.store.get("targetProxy", target)))
        throw notFound(`The resource '${target}' was not found`);
      return insertNew<StoredForwardingRule>(deps, of.kind, {
        ...common,
        target,
        portRange: String(body["portRange"] ?? (target.includes("Https") ? "443" : "80")),
        IPAddress: await addressOf(deps, body["IPAddress"]),
        loadBalancingScheme: String(body["loadBalancingScheme"] ?? "EXTERNAL"),
      });
    }
    case ADDRESSES:
      return insertNew<StoredAddress>(deps, of.kind, { ...common, address: LOAD_BALANCER_ADDRESS });
    default: {
      const managed = body["managed"] as { domains?: unknown[] } | undefined;
      if (body["type"] !== "MANAGED" || !managed?.domains?.length)
        throw unimplemented(
          "runguard issues certificates from its local CA: create Google-managed certificates with --domains.",
        );
      const domains = managed.domains.map((d) => String(d).toLowerCase());
      return insertNew<StoredSslCertificate>(deps, of.kind, { ...common, domains });
    }
  }
}

export async function getFrontend<T>(
  deps: FrontendsDeps,
  ctx: CallContext,
  projectId: string,
  of: FrontendKind,
  name: string,
  permission = `${of.permissions}.get`,
): Promise<T> {
  const resource = globalResource(projectId, of, name);
  ctx.authorize(permission, `projects/${projectId}`, resource);
  const found = await deps.store.get<T>(of.kind, resource);
  if (!found) throw notFound(`The resource '${resource}' was not found`);
  return found;
}

export async function listFrontends<T extends { resource: string }>(
  deps: FrontendsDeps,
  ctx: CallContext,
  projectId: string,
  of: FrontendKind,
): Promise<T[]> {
  ctx.authorize(`${of.permissions}.list`, `projects/${projectId}`);
  const prefix = `projects/${projectId}/global/${of.collection}/`;
  return (await deps.store.list<T>(of.kind, `projects/${projectId}/`)).filter((v) => v.resource.startsWith(prefix));
}

/** gcloud's url-maps edits (add-path-matcher, add-host-rule, set-default-service) send the whole map back. */
export async function replaceUrlMap(
  deps: FrontendsDeps,
  current: StoredUrlMap,
  body: Record<string, unknown>,
): Promise<StoredUrlMap> {
  const next: StoredUrlMap = { ...current, ...(await urlMapFields(deps, body)), fingerprint: fingerprint() };
  await deps.store.transact(async (tx) => tx.put("urlMap", current.resource, next));
  return next;
}

/** What still points at a resource: deleting it would break them (Compute answers 400 resourceInUseByAnotherResource). */
async function usersOf(deps: FrontendsDeps, resource: string): Promise<string[]> {
  const proxies = await deps.store.list<StoredTargetProxy>("targetProxy");
  const rules = await deps.store.list<StoredForwardingRule>("forwardingRule");
  return [
    ...proxies.filter((p) => p.urlMap === resource || p.sslCertificates.includes(resource)).map((p) => p.resource),
    ...rules.filter((r) => r.target === resource).map((r) => r.resource),
  ];
}

export async function deleteFrontend(
  deps: FrontendsDeps,
  ctx: CallContext,
  projectId: string,
  of: FrontendKind,
  name: string,
): Promise<string> {
  const found = await getFrontend<{ resource: string }>(deps, ctx, projectId, of, name, `${of.permissions}.delete`);
  const users = await usersOf(deps, found.resource);
  if (users.length > 0)
    throw new ApiError(
      "FAILED_PRECONDITION",
      `The ${of.collection.replace(/s$/, "")} resource '${found.resource}' is already being used by '${users[0]}'`,
    );
  await deps.store.transact(async (tx) => tx.delete(of.kind, found.resource));
  return found.resource;
}
