// Ingress settings decide which sources may reach a service at all (fidelity reference §4).
import type { Ingress } from "../run/types.js";

export type TrafficSource =
  | { kind: "external" }
  | { kind: "internal"; network: string; projectId: string }
  | { kind: "load-balancer"; projectId: string };

export function admitsSource(ingress: Ingress, source: TrafficSource): boolean {
  switch (ingress) {
    case "all":
      return true;
    case "internal":
      return source.kind === "internal";
    case "internal-and-cloud-load-balancing":
      return source.kind !== "external";
  }
}
