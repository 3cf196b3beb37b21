// Where a request comes from, as ingress settings see it: the internet, a VPC network, or a load balancer.
export type TrafficSource =
  | { kind: "external" }
  | { kind: "internal"; network: string; projectId: string }
  | { kind: "load-balancer"; projectId: string };
