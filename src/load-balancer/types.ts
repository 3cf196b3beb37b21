// The external HTTPS load balancer model: serverless NEGs point at Cloud Run services, backend services hold
// NEGs (and IAP settings), and a domain name maps to a backend service (runguard's one-step URL map).

export interface StoredNeg {
  resource: string;
  projectId: string;
  region: string;
  name: string;
  id: string;
  cloudRunService: string;
}

export interface StoredBackendService {
  resource: string;
  projectId: string;
  name: string;
  id: string;
  protocol: string;
  loadBalancingScheme: string;
  timeoutSec: number;
  /** Full resource names of serverless NEGs. */
  backends: string[];
  iap: { enabled: boolean; oauth2ClientId: string };
  fingerprint: string;
  creationTimestamp: string;
}

export interface StoredLoadBalancer {
  resource: string;
  projectId: string;
  domain: string;
  backendService: string;
}

/** Compute's URL map: hosts and paths to backend services (full resource names). */
export interface StoredUrlMap {
  resource: string;
  projectId: string;
  name: string;
  id: string;
  defaultService: string;
  hostRules: Array<{ hosts: string[]; pathMatcher: string }>;
  pathMatchers: Array<{ name: string; defaultService: string; pathRules: Array<{ paths: string[]; service: string }> }>;
  fingerprint: string;
  creationTimestamp: string;
}

export interface StoredTargetProxy {
  resource: string;
  projectId: string;
  name: string;
  id: string;
  protocol: "HTTP" | "HTTPS";
  urlMap: string;
  sslCertificates: string[];
  creationTimestamp: string;
}

export interface StoredForwardingRule {
  resource: string;
  projectId: string;
  name: string;
  id: string;
  target: string;
  portRange: string;
  IPAddress: string;
  loadBalancingScheme: string;
  creationTimestamp: string;
}

/** Only Google-managed certificates: runguard issues them from its local CA for the listed domains. */
export interface StoredSslCertificate {
  resource: string;
  projectId: string;
  name: string;
  id: string;
  domains: string[];
  creationTimestamp: string;
}

/** A reserved global address: runguard's load balancer listens on loopback, so every address is 127.0.0.1. */
export interface StoredAddress {
  resource: string;
  projectId: string;
  name: string;
  id: string;
  address: string;
  creationTimestamp: string;
}
