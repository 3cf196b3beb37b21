// Cloud Run's egress rules for one instance, as decisions for its egress proxy (fidelity reference §5):
// - *.googleapis.com: runguard's APIs (Private Google Access or the internet, either way reachable);
// - *.run.app: the front end; the call counts as internal only when all traffic leaves through the VPC;
// - private ranges: only with VPC access, and only to private resources registered in that network;
// - anything else: unreachable (there is no internet here, and all-traffic has no Cloud NAT).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { TrafficSource } from "../network/traffic-source.js";
import { isPrivateAddress } from "../network/cidr.js";
import type { EgressDecision, EgressTarget } from "./egress-proxy.js";
import type { PrivateResource, VpcAccess } from "../network/vpc-types.js";

export interface EgressContext {
  projectId: string;
  vpc?: VpcAccess;
  /** Registered private resources, by network. */
  privateResources: () => PrivateResource[];
  serveRunApp: (req: IncomingMessage, res: ServerResponse, source: TrafficSource) => void;
  serveGoogleApis: (req: IncomingMessage, res: ServerResponse) => void;
  /** Takes an HTTP/2 connection to a Google API (the control plane's gRPC gateway). */
  serveGrpc?: (connection: Duplex) => void;
}

export function decideEgress(context: EgressContext, target: EgressTarget): EgressDecision {
  const { vpc } = context;
  // Google's APIs and the well-known key URLs apps verify tokens with (www.googleapis.com/oauth2/v1/certs,
  // www.gstatic.com/iap/verify/public_key-jwk) are answered by runguard, with runguard's keys.
  if (target.host.endsWith(".googleapis.com") || target.host === "www.gstatic.com")
    return {
      kind: "handle",
      handler: context.serveGoogleApis,
      ...(context.serveGrpc ? { h2: context.serveGrpc } : {}),
    };
  if (target.host.endsWith(".run.app")) {
    const source: TrafficSource =
      vpc?.egress === "all-traffic"
        ? { kind: "internal", network: vpc.network, projectId: context.projectId }
        : { kind: "external" };
    return { kind: "handle", handler: (req, res) => context.serveRunApp(req, res, source) };
  }
  if (isPrivateAddress(target.host)) {
    if (!vpc)
      return { kind: "refuse", reason: `${target.host} is a private address and this revision has no VPC access` };
    const resource = context
      .privateResources()
      .find((r) => r.network === vpc.network && r.address === target.host && r.port === target.port);
    if (!resource)
      return { kind: "refuse", reason: `nothing answers at ${target.host}:${target.port} in ${vpc.network}` };
    return { kind: "forward", host: resource.target.host, port: resource.target.port };
  }
  return {
    kind: "refuse",
    reason: `${target.host} is not reachable from this instance: runguard has no internet; only *.run.app, *.googleapis.com and the private resources of the revision's VPC network are`,
  };
}
