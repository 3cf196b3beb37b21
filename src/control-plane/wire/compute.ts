// compute.v1 bodies of the load-balancer and network resources runguard emulates. Compute binds each insert's
// body to a `<kind>_resource` field; its messages name fields as `resource.<field>`.
import { bool, double, enumeration, int32, message, repeated, string, wireBody } from "./proto.js";

const C = "compute.v1.";
const common = {
  kind: string().optional(),
  id: string().optional(),
  name: string().optional(),
  description: string().optional(),
  creationTimestamp: string().optional(),
  selfLink: string().optional(),
  fingerprint: string().optional(),
};

export const network = wireBody(
  message(`${C}Network`, {
    ...common,
    autoCreateSubnetworks: bool().optional(),
    routingConfig: message(`${C}NetworkRoutingConfig`, {
      routingMode: enumeration(`${C}NetworkRoutingConfig.RoutingMode`, ["GLOBAL", "REGIONAL"]).optional(),
    }).optional(),
    mtu: int32().optional(),
  }),
  "resource",
);

export const subnetwork = wireBody(
  message(`${C}Subnetwork`, {
    ...common,
    network: string().optional(),
    ipCidrRange: string().optional(),
    region: string().optional(),
    privateIpGoogleAccess: bool().optional(),
  }),
  "resource",
);

export const networkEndpointGroup = wireBody(
  message(`${C}NetworkEndpointGroup`, {
    ...common,
    networkEndpointType: string().optional(),
    region: string().optional(),
    cloudRun: message(`${C}NetworkEndpointGroupCloudRun`, {
      service: string().optional(),
      tag: string().optional(),
      urlMask: string().optional(),
    }).optional(),
  }),
  "resource",
);

export const backendService = wireBody(
  message(`${C}BackendService`, {
    ...common,
    protocol: string().optional(),
    loadBalancingScheme: string().optional(),
    timeoutSec: int32().optional(),
    portName: string().optional(),
    backends: repeated(
      message(`${C}Backend`, {
        group: string().optional(),
        balancingMode: string().optional(),
        capacityScaler: double().optional(),
      }),
    ).optional(),
    iap: message(`${C}BackendServiceIAP`, {
      enabled: bool().optional(),
      oauth2ClientId: string().optional(),
      oauth2ClientSecret: string().optional(),
    }).optional(),
  }),
  "resource",
);

const pathMatcher = message(`${C}PathMatcher`, {
  name: string().optional(),
  description: string().optional(),
  defaultService: string().optional(),
  pathRules: repeated(
    message(`${C}PathRule`, { paths: repeated(string()).optional(), service: string().optional() }),
  ).optional(),
});

export const urlMap = wireBody(
  message(`${C}UrlMap`, {
    ...common,
    defaultService: string().optional(),
    hostRules: repeated(
      message(`${C}HostRule`, {
        description: string().optional(),
        hosts: repeated(string()).optional(),
        pathMatcher: string().optional(),
      }),
    ).optional(),
    pathMatchers: repeated(pathMatcher).optional(),
  }),
  "resource",
);

export const targetProxy = wireBody(
  message(`${C}TargetHttpsProxy`, {
    ...common,
    urlMap: string().optional(),
    sslCertificates: repeated(string()).optional(),
  }),
  "resource",
);

export const forwardingRule = wireBody(
  message(`${C}ForwardingRule`, {
    ...common,
    IPAddress: string().optional(),
    IPProtocol: string().optional(),
    portRange: string().optional(),
    target: string().optional(),
    loadBalancingScheme: string().optional(),
    networkTier: string().optional(),
  }),
  "resource",
);

export const sslCertificate = wireBody(
  message(`${C}SslCertificate`, {
    ...common,
    type: string().optional(),
    managed: message(`${C}SslCertificateManagedSslCertificate`, { domains: repeated(string()).optional() }).optional(),
  }),
  "resource",
);

export const address = wireBody(
  message(`${C}Address`, {
    ...common,
    address: string().optional(),
    addressType: string().optional(),
    ipVersion: string().optional(),
    networkTier: string().optional(),
  }),
  "resource",
);
