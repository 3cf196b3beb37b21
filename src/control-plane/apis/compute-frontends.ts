// Compute Engine v1 for the load balancer's front half: urlMaps, targetHttpProxies, targetHttpsProxies,
// globalForwardingRules and sslCertificates, as gcloud compute creates, describes, lists, edits and deletes them.
import {
  ADDRESSES,
  FORWARDING_RULES,
  HTTP_PROXIES,
  HTTPS_PROXIES,
  SSL_CERTIFICATES,
  URL_MAPS,
  createFrontend,
  deleteFrontend,
  getFrontend,
  listFrontends,
  replaceUrlMap,
  type FrontendKind,
} from "../../load-balancer/frontends.js";
import type {
  StoredAddress,
  StoredForwardingRule,
  StoredSslCertificate,
  StoredTargetProxy,
  StoredUrlMap,
} from "../../load-balancer/types.js";
import { BASE, M, P, operation } from "./compute.js";
import { auditAs } from "../audit-target.js";
import { inProject } from "../call-project.js";
import { path, seg, type Route } from "../route.js";
import { address, forwardingRule, sslCertificate, targetProxy, urlMap } from "../wire/compute.js";
import type { WireBody } from "../wire/proto.js";

const link = (resource: string) => `${BASE}${resource}`;

function render(of: FrontendKind, value: { resource: string; id: string; name: string; creationTimestamp: string }) {
  const common = {
    id: value.id,
    name: value.name,
    creationTimestamp: value.creationTimestamp,
    selfLink: link(value.resource),
  };
  switch (of) {
    case URL_MAPS: {
      const map = value as StoredUrlMap;
      return {
        kind: "compute#urlMap",
        ...common,
        defaultService: link(map.defaultService),
        hostRules: map.hostRules,
        pathMatchers: map.pathMatchers.map((m) => ({
          name: m.name,
          defaultService: link(m.defaultService),
          pathRules: m.pathRules.map((r) => ({ paths: r.paths, service: link(r.service) })),
        })),
        fingerprint: map.fingerprint,
      };
    }
    case HTTP_PROXIES:
    case HTTPS_PROXIES: {
      const proxy = value as StoredTargetProxy;
      return {
        kind: proxy.protocol === "HTTPS" ? "compute#targetHttpsProxy" : "compute#targetHttpProxy",
        ...common,
        urlMap: link(proxy.urlMap),
        ...(proxy.protocol === "HTTPS" ? { sslCertificates: proxy.sslCertificates.map(link) } : {}),
      };
    }
    case FORWARDING_RULES: {
      const rule = value as StoredForwardingRule;
      return {
        kind: "compute#forwardingRule",
        ...common,
        IPAddress: rule.IPAddress,
        IPProtocol: "TCP",
        portRange: `${rule.portRange}-${rule.portRange}`,
        target: link(rule.target),
        loadBalancingScheme: rule.loadBalancingScheme,
        networkTier: "PREMIUM",
      };
    }
    case ADDRESSES: {
      const reserved = value as StoredAddress;
      return {
        kind: "compute#address",
        ...common,
        address: reserved.address,
        addressType: "EXTERNAL",
        ipVersion: "IPV4",
        networkTier: "PREMIUM",
        status: "RESERVED",
      };
    }
    default: {
      const certificate = value as StoredSslCertificate;
      return {
        kind: "compute#sslCertificate",
        ...common,
        type: "MANAGED",
        managed: {
          domains: certificate.domains,
          status: "ACTIVE",
          domainStatus: Object.fromEntries(certificate.domains.map((d) => [d, "ACTIVE"])),
        },
        subjectAlternativeNames: certificate.domains,
      };
    }
  }
}

function wireTypeOf(of: FrontendKind): WireBody {
  if (of === URL_MAPS) return urlMap;
  if (of === HTTP_PROXIES || of === HTTPS_PROXIES) return targetProxy;
  if (of === FORWARDING_RULES) return forwardingRule;
  return of === SSL_CERTIFICATES ? sslCertificate : address;
}

function routesFor(of: FrontendKind): Route[] {
  const collection = `${P}/global/${of.collection}`;
  const item = `${collection}/${seg("name")}`;
  const method = (verb: string) => `${M}${of.collection}.${verb}`;
  const routes: Route[] = [
    {
      api: "compute",
      method: "POST",
      path: path(collection),
      body: wireTypeOf(of),
      methodName: method("insert"),
      mutates: true,
      handle: (call) =>
        inProject(call, async ({ projectId }) => {
          const created = await createFrontend(call.platform, call.ctx, projectId, of, call.body);
          return auditAs({ resourceName: created.resource }, () => operation(created.resource, "insert"));
        }),
    },
    {
      api: "compute",
      method: "GET",
      path: path(collection),
      methodName: method("list"),
      mutates: false,
      handle: (call) =>
        inProject(call, async ({ projectId }) => {
          const all = await listFrontends<StoredUrlMap>(call.platform, call.ctx, projectId, of);
          // Both proxy kinds share one store kind; each collection lists its own.
          return {
            kind: `compute#${of.collection.replace(/s$/, "")}List`,
            items: all.map((v) => render(of, v)),
            selfLink: link(`projects/${projectId}/global/${of.collection}`),
          };
        }),
    },
    {
      api: "compute",
      method: "GET",
      path: path(item),
      methodName: method("get"),
      mutates: false,
      handle: (call) =>
        inProject(call, async ({ projectId }) =>
          render(
            of,
            await getFrontend<StoredUrlMap>(call.platform, call.ctx, projectId, of, call.params["name"] ?? ""),
          ),
        ),
    },
    {
      api: "compute",
      method: "DELETE",
      path: path(item),
      methodName: method("delete"),
      mutates: true,
      handle: (call) =>
        inProject(call, async ({ projectId }) => {
          const resource = await deleteFrontend(call.platform, call.ctx, projectId, of, call.params["name"] ?? "");
          return auditAs({ resourceName: resource }, () => operation(resource, "delete"));
        }),
    },
    {
      api: "compute",
      method: "GET",
      path: path(`${P}/aggregated/${of.collection}`),
      methodName: method("aggregatedList"),
      mutates: false,
      handle: (call) =>
        inProject(call, async ({ projectId }) => {
          const all = await listFrontends<StoredUrlMap>(call.platform, call.ctx, projectId, of);
          return {
            kind: `compute#${of.collection}AggregatedList`,
            items: { global: { [of.collection]: all.map((v) => render(of, v)) } },
            selfLink: link(`projects/${projectId}/aggregated/${of.collection}`),
          };
        }),
    },
  ];
  if (of !== URL_MAPS) return routes;
  const update = (verb: "PUT" | "PATCH"): Route => ({
    api: "compute",
    method: verb,
    path: path(item),
    body: urlMap,
    methodName: method(verb === "PUT" ? "update" : "patch"),
    mutates: true,
    handle: (call) =>
      inProject(call, async ({ projectId }) => {
        const current = await getFrontend<StoredUrlMap>(
          call.platform,
          call.ctx,
          projectId,
          of,
          call.params["name"] ?? "",
          "compute.urlMaps.update",
        );
        const body = verb === "PATCH" ? { ...render(of, current), ...call.body } : call.body;
        await replaceUrlMap(call.platform, current, body);
        return auditAs({ resourceName: current.resource }, () =>
          operation(current.resource, verb === "PUT" ? "update" : "patch"),
        );
      }),
  });
  return [...routes, update("PUT"), update("PATCH")];
}

export const computeFrontendRoutes: Route[] = [
  URL_MAPS,
  HTTP_PROXIES,
  HTTPS_PROXIES,
  FORWARDING_RULES,
  SSL_CERTIFICATES,
  ADDRESSES,
].flatMap(routesFor);
