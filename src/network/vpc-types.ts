// The virtual network model: VPC networks, subnets, Serverless VPC Access connectors, and private resources
// (an address:port in a network that runguard maps to a loopback endpoint, e.g. a database on 10.0.0.5).

export interface StoredNetwork {
  resource: string;
  projectId: string;
  name: string;
  id: string;
  autoCreateSubnetworks: boolean;
  routingMode: string;
  creationTimestamp: string;
}

export interface StoredSubnetwork {
  resource: string;
  projectId: string;
  region: string;
  name: string;
  id: string;
  network: string;
  ipCidrRange: string;
  privateIpGoogleAccess: boolean;
  creationTimestamp: string;
}

export interface StoredConnector {
  resource: string;
  projectId: string;
  region: string;
  name: string;
  network: string;
  subnet?: string;
  ipCidrRange?: string;
  minInstances: number;
  maxInstances: number;
}

export interface PrivateResource {
  resource: string;
  projectId: string;
  network: string;
  address: string;
  port: number;
  /** The loopback endpoint that stands for it. */
  target: { host: string; port: number };
  description?: string;
}

/** What a revision can reach: a Serverless VPC Access connector or Direct VPC egress gives it a network. */
export interface VpcAccess {
  /** projects/P/global/networks/N */
  network: string;
  egress: "private-ranges-only" | "all-traffic";
}
