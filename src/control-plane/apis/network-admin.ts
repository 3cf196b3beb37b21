// runguard's own network API: private resources in a VPC (what answers at 10.x.y.z), and short-lived egress
// proxies that act from inside a network (`runguard vpc exec`).
import { requireNetwork } from "../../network/vpc.js";
import { parsePrivateResource } from "../../network/private-resources.js";
import type { PrivateResource, StoredNetwork } from "../../network/vpc-types.js";
import type { VpcGateway } from "../../egress/vpc-gateway.js";
import type { LocalCa } from "../../network/local-ca.js";
import { path, seg, type ApiCall, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";
import { inProject } from "../call-project.js";
import { closeEgressRequest, openEgressRequest, privateResourceRequest } from "../wire/runguard.js";

const N = `/runguard/v1/projects/${seg("project")}/global/networks/${seg("network")}`;

/** Runs `work` on the network the call names, once `permission` on it is granted; audited against it. */
function withNetwork(call: ApiCall, permission: string, work: (network: StoredNetwork) => unknown) {
  return inProject(call, async (project) => {
    const network = await requireNetwork(
      call.platform,
      call.ctx,
      project.projectId,
      call.params["network"] ?? "",
      permission,
    );
    return auditAs({ resourceName: network.resource }, () => work(network));
  });
}

export function createNetworkAdminRoutes(gateway: VpcGateway, ca: LocalCa): Route[] {
  const open = new Map<string, { close(): Promise<void>; timer: NodeJS.Timeout }>();
  return [
    {
      api: "runguard",
      method: "POST",
      path: path(`${N}/privateResources`),
      methodName: "runguard.network.AddPrivateResource",
      body: privateResourceRequest,
      mutates: true,
      handle: (call) =>
        withNetwork(call, "compute.networks.update", async (network) => {
          const resource = parsePrivateResource(
            network.projectId,
            network.resource,
            call.body["address"],
            call.body["target"],
            call.body["description"],
          );
          await call.platform.store.transact(async (tx) => tx.put("privateResource", resource.resource, resource));
          return resource;
        }),
    },
    {
      api: "runguard",
      method: "GET",
      path: path(`${N}/privateResources`),
      methodName: "runguard.network.ListPrivateResources",
      mutates: false,
      handle: (call) =>
        withNetwork(call, "compute.networks.get", async (network) => ({
          privateResources: await call.platform.store.list<PrivateResource>(
            "privateResource",
            `${network.resource}/privateResources/`,
          ),
        })),
    },
    {
      api: "runguard",
      method: "POST",
      path: path(`${N}:openEgress`),
      methodName: "runguard.network.OpenEgress",
      body: openEgressRequest,
      mutates: true,
      handle: (call) =>
        withNetwork(call, "compute.networks.use", async (network) => {
          const ttlSeconds = Math.min(Number(call.body["ttlSeconds"] ?? 3600) || 3600, 24 * 3600);
          const proxy = await gateway.open(network.projectId, network.resource);
          const timer = setTimeout(() => void proxy.close(), ttlSeconds * 1000);
          timer.unref();
          open.set(proxy.proxyUrl, { close: proxy.close, timer });
          return { proxyUrl: proxy.proxyUrl, caBundlePath: ca.bundlePath, caCertPath: ca.caCertPath, ttlSeconds };
        }),
    },
    {
      api: "runguard",
      method: "POST",
      path: path(`${N}:closeEgress`),
      methodName: "runguard.network.CloseEgress",
      body: closeEgressRequest,
      mutates: true,
      handle: (call) =>
        withNetwork(call, "compute.networks.use", async () => {
          const entry = open.get(String(call.body["proxyUrl"] ?? ""));
          if (entry) {
            clearTimeout(entry.timer);
            open.delete(String(call.body["proxyUrl"]));
            await entry.close();
          }
          return {};
        }),
    },
  ];
}
