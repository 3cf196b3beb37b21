// Bodies of runguard's own admin API (/runguard/v1/...), of VPC Access connectors and of Service Usage.
import { int32, message, repeated, string, wireBody } from "./proto.js";

const R = "runguard.v1.";

export const groupMemberRequest = wireBody(message(`${R}GroupMemberRequest`, { member: string().optional() }));
export const setPasswordRequest = wireBody(message(`${R}SetPasswordRequest`, { password: string().optional() }));
export const explainRequest = wireBody(
  message(`${R}ExplainRequest`, {
    principal: string().optional(),
    permission: string().optional(),
    resource: string().optional(),
  }),
);
export const mapDomainRequest = wireBody(
  message(`${R}MapDomainRequest`, { domain: string().optional(), backendService: string().optional() }),
);
export const privateResourceRequest = wireBody(
  message(`${R}PrivateResourceRequest`, {
    address: string().optional(),
    target: string().optional(),
    description: string().optional(),
  }),
);
export const openEgressRequest = wireBody(message(`${R}OpenEgressRequest`, { ttlSeconds: int32().optional() }));
export const closeEgressRequest = wireBody(message(`${R}CloseEgressRequest`, { proxyUrl: string().optional() }));

export const connector = wireBody(
  message("google.cloud.vpcaccess.v1.Connector", {
    name: string().optional(),
    network: string().optional(),
    ipCidrRange: string().optional(),
    minThroughput: int32().optional(),
    maxThroughput: int32().optional(),
    minInstances: int32().optional(),
    maxInstances: int32().optional(),
    machineType: string().optional(),
    subnet: message("google.cloud.vpcaccess.v1.Connector.Subnet", {
      name: string().optional(),
      projectId: string().optional(),
    }).optional(),
  }),
  "connector",
);

export const batchEnableServicesRequest = wireBody(
  message("google.api.serviceusage.v1.BatchEnableServicesRequest", { serviceIds: repeated(string()).optional() }),
);
