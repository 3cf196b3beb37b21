// Ingress settings decide which sources may reach a service at all (fidelity reference §4).
import type { Ingress } from "../run/types.js";

export type TrafficSource =
  | { kind: "external" }
  | { kind: "internal"; network: string; projectId: string }
  | { kind: "load-balancer"; projectId: string };

/** Only a VPC network in the service's own project counts as internal (no Shared VPC in runguard). */
export function admitsSource(ingress: Ingress, source: TrafficSource, serviceProject: string): boolean {
  if (source.kind !== "external" && source.projectId !== serviceProject) source = { kind: "external" };
  switch (ingress) {
    case "all":
      return true;
    case "internal":
      return source.kind === "internal";
    case "internal-and-cloud-load-balancing":
      return source.kind !== "external";
  }
}
