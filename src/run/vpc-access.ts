// What a revision can reach, from its template: a Serverless VPC Access connector or Direct VPC egress gives
// it a network; the egress setting says whether only private ranges or all traffic go through it.
import { invalidArgument } from "../core/errors.js";
import type { Store } from "../store/store.js";
import type { RevisionTemplate } from "./types.js";
import { connectorResource, lastSegment, networkResource } from "../network/vpc.js";
import type { StoredConnector, StoredNetwork, VpcAccess } from "../network/vpc-types.js";

function connectorName(value: string, projectId: string, region: string): string {
  const full = /^projects\/([^/]+)\/locations\/([^/]+)\/connectors\/([^/]+)$/.exec(value);
  return full ? value : connectorResource(projectId, region, value);
}

/** Resolves the template's VPC settings; throws INVALID_ARGUMENT for an unknown connector or network. */
export async function resolveVpcAccess(
  store: Store,
  template: RevisionTemplate,
  projectId: string,
  region: string,
): Promise<VpcAccess | undefined> {
  const annotations = template.metadata?.annotations ?? {};
  const egress = (annotations["run.googleapis.com/vpc-access-egress"] ?? "private-ranges-only") as VpcAccess["egress"];
  const connector = annotations["run.googleapis.com/vpc-access-connector"];
  if (connector) {
    const name = connectorName(connector, projectId, region);
    if (!name.includes(`/locations/${region}/`)) {
      throw invalidArgument(
        `spec.template.metadata.annotations[run.googleapis.com/vpc-access-connector]: VPC connector ${name} must be in the service's region ${region}.`,
      );
    }
    const found = await store.get<StoredConnector>("connector", name);
    if (!found)
      throw invalidArgument(
        `spec.template.metadata.annotations[run.googleapis.com/vpc-access-connector]: VPC connector ${name} was not found.`,
      );
    return { network: found.network, egress };
  }
  const interfaces = annotations["run.googleapis.com/network-interfaces"];
  if (interfaces) {
    let parsed: Array<{ network?: string }>;
    try {
      parsed = JSON.parse(interfaces) as Array<{ network?: string }>;
    } catch {
      throw invalidArgument(
        "spec.template.metadata.annotations[run.googleapis.com/network-interfaces]: must be a JSON list.",
      );
    }
    const network = networkResource(projectId, lastSegment(parsed[0]?.network ?? "default"));
    if (!(await store.get<StoredNetwork>("network", network))) {
      throw invalidArgument(
        `spec.template.metadata.annotations[run.googleapis.com/network-interfaces]: network ${network} was not found.`,
      );
    }
    return { network, egress };
  }
  return undefined;
}
