// runguard's own network API: private resources in a VPC (what answers at 10.x.y.z), and short-lived egress
// proxies that act from inside a network (`runguard vpc exec`).
import { requireProject } from "../../accounts/projects.js";
import { requireNetwork } from "../../network/vpc.js";
import { parsePrivateResource } from "../../network/private-resources.js";
import type { PrivateResource } from "../../network/vpc-types.js";
import type { VpcGateway } from "../../egress/vpc-gateway.js";
import type { LocalCa } from "../../network/local-ca.js";
import { path, seg, type ApiCall, type Route } from "../route.js";
import { closeEgressRequest, openEgressRequest, privateResourceRequest } from "../wire/runguard.js";

const N = `/runguard/v1/projects/${seg("project")}/global/networks/${seg("network")}`;

async function networkOf(call: ApiCall, permission: string) {
  const project = await requireProject(call.platform, call.params["project"] ?? "");
  call.audit.projectId = project.projectId;
  const network = await requireNetwork(
    call.platform,
    call.ctx,
    project.projectId,
    call.params["network"] ?? "",
    permission,
  );
  call.audit.resourceName = network.resource;
  return network;
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
      async handle(call) {
        const network = await networkOf(call, "compute.networks.update");
        const resource = parsePrivateResource(
          network.projectId,
          network.resource,
          call.body["address"],
          call.body["target"],
          call.body["description"],
        );
        await call.platform.store.transact(async (tx) => tx.put("privateResource", resource.resource, resource));
        return resource;
      },
    },
    {
      api: "runguard",
      method: "GET",
      path: path(`${N}/privateResources`),
      methodName: "runguard.network.ListPrivateResources",
      mutates: false,
      async handle(call) {
        const network = await networkOf(call, "compute.networks.get");
        return {
          privateResources: await call.platform.store.list<PrivateResource>(
            "privateResource",
            `${network.resource}/privateResources/`,
          ),
        };
      },
    },
    {
      api: "runguard",
      method: "POST",
      path: path(`${N}:openEgress`),
      methodName: "runguard.network.OpenEgress",
      body: openEgressRequest,
      mutates: true,
      async handle(call) {
        const network = await networkOf(call, "compute.networks.use");
        const ttlSeconds = Math.min(Number(call.body["ttlSeconds"] ?? 3600) || 3600, 24 * 3600);
        const proxy = await gateway.open(network.projectId, network.resource);
        const timer = setTimeout(() => void proxy.close(), ttlSeconds * 1000);
        timer.unref();
        open.set(proxy.proxyUrl, { close: proxy.close, timer });
        return { proxyUrl: proxy.proxyUrl, caBundlePath: ca.bundlePath, caCertPath: ca.caCertPath, ttlSeconds };
      },
    },
    {
      api: "runguard",
      method: "POST",
      path: path(`${N}:closeEgress`),
      methodName: "runguard.network.CloseEgress",
      body: closeEgressRequest,
      mutates: true,
      async handle(call) {
        await networkOf(call, "compute.networks.use");
        const entry = open.get(String(call.body["proxyUrl"] ?? ""));
        if (entry) {
          clearTimeout(entry.timer);
          open.delete(String(call.body["proxyUrl"]));
          await entry.close();
        }
        return {};
      },
    },
  ];
}
