// Acting from inside a VPC network, as a VM there would: an egress proxy whose every request counts as
// internal traffic of that network (`runguard vpc exec`).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TrafficSource } from "../network/traffic-source.js";
import type { LocalCa } from "../network/local-ca.js";
import { createEgressProxy } from "./egress-proxy.js";
import { decideEgress } from "./egress-policy.js";
import type { PrivateResourceIndex } from "../network/private-resources.js";

export interface VpcGateway {
  open(projectId: string, network: string): Promise<{ proxyUrl: string; close(): Promise<void> }>;
}

export function createVpcGateway(options: {
  ca: LocalCa;
  privateResources: PrivateResourceIndex;
  serveRunApp: (req: IncomingMessage, res: ServerResponse, source: TrafficSource) => void;
  serveGoogleApis: (req: IncomingMessage, res: ServerResponse) => void;
}): VpcGateway {
  return {
    async open(projectId, network) {
      const proxy = createEgressProxy({
        ca: options.ca,
        decide: (target) =>
          decideEgress(
            {
              projectId,
              vpc: { network, egress: "all-traffic" },
              privateResources: options.privateResources.list,
              serveRunApp: options.serveRunApp,
              serveGoogleApis: options.serveGoogleApis,
            },
            target,
          ),
      });
      const { port } = await proxy.listen("127.0.0.1", 0);
      return { proxyUrl: `http://127.0.0.1:${port}`, close: () => proxy.close() };
    },
  };
}
