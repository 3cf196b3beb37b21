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
