// Compute Engine v1, the parts of it the network model needs: global networks and regional subnetworks.
// Operations finish at once; gcloud then fetches the resource through targetLink.
import { randomBytes } from "node:crypto";
import { createNetwork, createSubnetwork, lastSegment, requireNetwork, subnetResource } from "../../network/vpc.js";
import type { StoredNetwork, StoredSubnetwork } from "../../network/vpc-types.js";
import { notFound } from "../../core/errors.js";
import { path, seg, type ApiCall, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";
import { inProject } from "../call-project.js";
import { network, subnetwork } from "../wire/compute.js";

export const BASE = "https://compute.googleapis.com/compute/v1/";
export const P = `/compute/v1/projects/${seg("project")}`;
export const M = "v1.compute.";

export function operation(target: string, type: string, region?: string) {
  const name = `operation-${Date.now()}-${randomBytes(6).toString("hex")}`;
  const now = new Date().toISOString();
  const scope = region ? `regions/${region}` : "global";
  const project = target.split("/")[1] ?? "";
  return {
    kind: "compute#operation",
    id: String(BigInt(`0x${randomBytes(7).toString("hex")}`)),
    name,
    operationType: type,
    targetLink: `${BASE}${target}`,
    status: "DONE",
    progress: 100,
    insertTime: now,
    startTime: now,
    endTime: now,
    selfLink: `${BASE}projects/${project}/${scope}/operations/${name}`,
    ...(region ? { region: `${BASE}projects/${project}/regions/${region}` } : {}),
  };
}

async function renderNetwork(call: ApiCall, network: StoredNetwork) {
  const subnets = (
    await call.platform.store.list<StoredSubnetwork>("subnetwork", `projects/${network.projectId}/`)
  ).filter((s) => s.network === network.resource);
  return {
    kind: "compute#network",
    id: network.id,
    creationTimestamp: network.creationTimestamp,
    name: network.name,
    selfLink: `${BASE}${network.resource}`,
    autoCreateSubnetworks: network.autoCreateSubnetworks,
    subnetworks: subnets.map((s) => `${BASE}${s.resource}`),
    routingConfig: { routingMode: network.routingMode },
    x_gcloud_subnet_mode: network.autoCreateSubnetworks ? "AUTO" : "CUSTOM",
  };
}

function renderSubnet(subnet: StoredSubnetwork) {
  return {
    kind: "compute#subnetwork",
    id: subnet.id,
    creationTimestamp: subnet.creationTimestamp,
    name: subnet.name,
    network: `${BASE}${subnet.network}`,
    ipCidrRange: subnet.ipCidrRange,
    region: `${BASE}projects/${subnet.projectId}/regions/${subnet.region}`,
    selfLink: `${BASE}${subnet.resource}`,
    privateIpGoogleAccess: subnet.privateIpGoogleAccess,
    stackType: "IPV4_ONLY",
    fingerprint: "AAAAAAAAAAA=",
  };
}

export const computeRoutes: Route[] = [
  {
    api: "compute",
    method: "POST",
    path: path(`${P}/global/networks`),
    methodName: `${M}networks.insert`,
    body: network,
    mutates: true,
    handle: (call) =>
      inProject(call, async ({ projectId }) => {
        const network = await createNetwork(call.platform, call.ctx, projectId, call.body);
        return auditAs({ resourceName: network.resource }, () => operation(network.resource, "insert"));
      }),
  },
  {
    api: "compute",
    method: "GET",
    path: path(`${P}/global/networks`),
    methodName: `${M}networks.list`,
    mutates: false,
    handle: (call) =>
      inProject(call, async ({ projectId }) => {
        call.ctx.authorize("compute.networks.list", `projects/${projectId}`);
        const networks = await call.platform.store.list<StoredNetwork>(
          "network",
          `projects/${projectId}/global/networks/`,
        );
        return { kind: "compute#networkList", items: await Promise.all(networks.map((n) => renderNetwork(call, n))) };
      }),
  },
  {
    api: "compute",
    method: "GET",
    path: path(`${P}/global/networks/${seg("network")}`),
    methodName: `${M}networks.get`,
    mutates: false,
    handle: (call) =>
      inProject(call, async ({ projectId }) =>
        renderNetwork(call, await requireNetwork(call.platform, call.ctx, projectId, call.params["network"] ?? "")),
      ),
  },
  {
    api: "compute",
    method: "POST",
    path: path(`${P}/regions/${seg("region")}/subnetworks`),
    methodName: `${M}subnetworks.insert`,
    body: subnetwork,
    mutates: true,
    handle: (call) =>
      inProject(call, async ({ projectId }) => {
        const subnet = await createSubnetwork(
          call.platform,
          call.ctx,
          projectId,
          call.params["region"] ?? "",
          call.body,
        );
        return auditAs({ resourceName: subnet.resource }, () => operation(subnet.resource, "insert", subnet.region));
      }),
  },
  {
    api: "compute",
    method: "GET",
    path: path(`${P}/regions/${seg("region")}/subnetworks`),
    methodName: `${M}subnetworks.list`,
    mutates: false,
    handle: (call) =>
      inProject(call, async ({ projectId }) => {
        call.ctx.authorize("compute.subnetworks.list", `projects/${projectId}`);
        const subnets = await call.platform.store.list<StoredSubnetwork>(
          "subnetwork",
          `projects/${projectId}/regions/${call.params["region"]}/`,
        );
        return { kind: "compute#subnetworkList", items: subnets.map(renderSubnet) };
      }),
  },
  {
    api: "compute",
    method: "GET",
    path: path(`${P}/regions/${seg("region")}/subnetworks/${seg("subnet")}`),
    methodName: `${M}subnetworks.get`,
    mutates: false,
    handle: (call) =>
      inProject(call, async ({ projectId }) => {
        const resource = subnetResource(projectId, call.params["region"] ?? "", call.params["subnet"] ?? "");
        call.ctx.authorize("compute.subnetworks.get", `projects/${projectId}`, resource);
        const subnet = await call.platform.store.get<StoredSubnetwork>("subnetwork", resource);
        if (!subnet) throw notFound(`The resource '${resource}' was not found`);
        return renderSubnet(subnet);
      }),
  },
];

export { lastSegment };
