// Compute Engine v1 for the load balancer: serverless network endpoint groups and backend services (with IAP).
import {
  createBackendService,
  createNeg,
  requireBackendService,
  updateBackendService,
} from "../../load-balancer/backend-services.js";
import type { StoredBackendService, StoredNeg } from "../../load-balancer/types.js";
import { notFound } from "../../core/errors.js";
import { BASE, M, P, operation } from "./compute.js";
import { path, seg, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";
import { inProject } from "../call-project.js";
import { backendService, networkEndpointGroup } from "../wire/compute.js";

function renderNeg(neg: StoredNeg) {
  return {
    kind: "compute#networkEndpointGroup",
    id: neg.id,
    name: neg.name,
    networkEndpointType: "SERVERLESS",
    cloudRun: { service: neg.cloudRunService },
    region: `${BASE}projects/${neg.projectId}/regions/${neg.region}`,
    selfLink: `${BASE}${neg.resource}`,
    size: 0,
  };
}

function renderBackend(backend: StoredBackendService) {
  return {
    kind: "compute#backendService",
    id: backend.id,
    name: backend.name,
    creationTimestamp: backend.creationTimestamp,
    selfLink: `${BASE}${backend.resource}`,
    protocol: backend.protocol,
    loadBalancingScheme: backend.loadBalancingScheme,
    timeoutSec: backend.timeoutSec,
    portName: "http",
    backends: backend.backends.map((group) => ({
      group: `${BASE}${group}`,
      balancingMode: "UTILIZATION",
      capacityScaler: 1,
    })),
    iap: backend.iap,
    fingerprint: backend.fingerprint,
  };
}

const backendRoute = (method: "GET" | "PATCH" | "PUT"): Route => ({
  api: "compute",
  method,
  path: path(`${P}/global/backendServices/${seg("backend")}`),
  methodName: `${M}backendServices.${method === "GET" ? "get" : method === "PATCH" ? "patch" : "update"}`,
  body: backendService,
  mutates: method !== "GET",
  handle: (call) =>
    inProject(call, async ({ projectId }) => {
      const permission = method === "GET" ? "compute.backendServices.get" : "compute.backendServices.update";
      const backend = await requireBackendService(
        call.platform,
        call.ctx,
        projectId,
        call.params["backend"] ?? "",
        permission,
      );
      return auditAs({ resourceName: backend.resource }, async () => {
        if (method === "GET") return renderBackend(backend);
        await updateBackendService(call.platform, backend, call.body);
        return operation(backend.resource, method === "PATCH" ? "patch" : "update");
      });
    }),
});

export const computeLoadBalancerRoutes: Route[] = [
  {
    api: "compute",
    method: "POST",
    path: path(`${P}/regions/${seg("region")}/networkEndpointGroups`),
    methodName: `${M}regionNetworkEndpointGroups.insert`,
    body: networkEndpointGroup,
    mutates: true,
    handle: (call) =>
      inProject(call, async ({ projectId }) => {
        const neg = await createNeg(call.platform, call.ctx, projectId, call.params["region"] ?? "", call.body);
        return auditAs({ resourceName: neg.resource }, () => operation(neg.resource, "insert", neg.region));
      }),
  },
  {
    api: "compute",
    method: "GET",
    path: path(`${P}/regions/${seg("region")}/networkEndpointGroups/${seg("neg")}`),
    methodName: `${M}regionNetworkEndpointGroups.get`,
    mutates: false,
    handle: (call) =>
      inProject(call, async ({ projectId }) => {
        const resource = `projects/${projectId}/regions/${call.params["region"]}/networkEndpointGroups/${call.params["neg"]}`;
        call.ctx.authorize("compute.regionNetworkEndpointGroups.get", `projects/${projectId}`, resource);
        const neg = await call.platform.store.get<StoredNeg>("networkEndpointGroup", resource);
        if (!neg) throw notFound(`The resource '${resource}' was not found`);
        return renderNeg(neg);
      }),
  },
  {
    api: "compute",
    method: "POST",
    path: path(`${P}/global/backendServices`),
    methodName: `${M}backendServices.insert`,
    body: backendService,
    mutates: true,
    handle: (call) =>
      inProject(call, async ({ projectId }) => {
        const backend = await createBackendService(call.platform, call.ctx, projectId, call.body);
        return auditAs({ resourceName: backend.resource }, () => operation(backend.resource, "insert"));
      }),
  },
  backendRoute("GET"),
  backendRoute("PATCH"),
  backendRoute("PUT"),
];
