// Ingress settings decide which sources may reach a service at all (fidelity reference §4).
import type { Ingress } from "../run/types.js";
import type { TrafficSource } from "../network/traffic-source.js";

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
