// VPC networks, subnets and Serverless VPC Access connectors (domain). Subnet ranges in one network must not
// overlap; a connector needs a /28 of its own, in the service's region.
import { alreadyExists, invalidArgument, notFound } from "../core/errors.js";
import type { CallContext } from "../iam/call-context.js";
import type { Clock } from "../core/clock.js";
import type { Store } from "../store/store.js";
import { numericId } from "../core/ids.js";
import { toRfc3339 } from "../core/clock.js";
import { overlaps, parseCidr } from "./cidr.js";
import type { StoredConnector, StoredNetwork, StoredSubnetwork } from "./vpc-types.js";

/** What this module's operations use. */
export interface VpcDeps {
  readonly clock: Clock;
  readonly store: Store;
}

const NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
export const networkResource = (projectId: string, name: string) => `projects/${projectId}/global/networks/${name}`;
export const subnetResource = (projectId: string, region: string, name: string) =>
  `projects/${projectId}/regions/${region}/subnetworks/${name}`;
export const connectorResource = (projectId: string, region: string, name: string) =>
  `projects/${projectId}/locations/${region}/connectors/${name}`;

function checkName(name: unknown, what: string): string {
  if (typeof name !== "string" || !NAME.test(name))
    throw invalidArgument(
      `Invalid value for field 'resource.name': '${String(name)}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)' (${what}).`,
    );
  return name;
}

/** The last path segment of a compute URL or name: `.../global/networks/my-vpc` → `my-vpc`. */
export const lastSegment = (value: string) => value.split("/").pop() ?? value;

export async function createNetwork(
  deps: VpcDeps,
  ctx: CallContext,
  projectId: string,
  body: Record<string, unknown>,
): Promise<StoredNetwork> {
  ctx.authorize("compute.networks.create", `projects/${projectId}`);
  const name = checkName(body["name"], "network");
  const resource = networkResource(projectId, name);
  return deps.store.transact(async (tx) => {
    if (await tx.get("network", resource)) throw alreadyExists(`The resource '${resource}' already exists`);
    const network: StoredNetwork = {
      resource,
      projectId,
      name,
      id: numericId().slice(0, 19),
      autoCreateSubnetworks: body["autoCreateSubnetworks"] === true,
      routingMode: (body["routingConfig"] as { routingMode?: string } | undefined)?.routingMode ?? "REGIONAL",
      creationTimestamp: toRfc3339(deps.clock.now()),
    };
    tx.put("network", resource, network);
    return network;
  });
}

export async function requireNetwork(
  deps: VpcDeps,
  ctx: CallContext,
  projectId: string,
  name: string,
  permission = "compute.networks.get",
): Promise<StoredNetwork> {
  const resource = networkResource(projectId, name);
  ctx.authorize(permission, `projects/${projectId}`, resource);
  const network = await deps.store.get<StoredNetwork>("network", resource);
  if (!network) throw notFound(`The resource '${resource}' was not found`);
  return network;
}

export async function createSubnetwork(
  deps: VpcDeps,
  ctx: CallContext,
  projectId: string,
  region: string,
  body: Record<string, unknown>,
): Promise<StoredSubnetwork> {
  ctx.authorize("compute.subnetworks.create", `projects/${projectId}`);
  const name = checkName(body["name"], "subnetwork");
  const network = await requireNetwork(deps, ctx, projectId, lastSegment(String(body["network"] ?? "")));
  const range = String(body["ipCidrRange"] ?? "");
  const cidr = parseCidr(range);
  if (!cidr)
    throw invalidArgument(`Invalid value for field 'resource.ipCidrRange': '${range}'. Invalid IPCidrRange: ${range}.`);
  const resource = subnetResource(projectId, region, name);
  return deps.store.transact(async (tx) => {
    if (await tx.get("subnetwork", resource)) throw alreadyExists(`The resource '${resource}' already exists`);
    for (const other of await tx.list<StoredSubnetwork>("subnetwork", `projects/${projectId}/`)) {
      const otherCidr = parseCidr(other.ipCidrRange);
      if (other.network === network.resource && otherCidr && overlaps(cidr, otherCidr)) {
        throw invalidArgument(
          `Invalid IPCidrRange: ${range} conflicts with existing subnetwork '${other.name}' in region '${other.region}'.`,
        );
      }
    }
    const subnet: StoredSubnetwork = {
      resource,
      projectId,
      region,
      name,
      id: numericId().slice(0, 19),
      network: network.resource,
      ipCidrRange: range,
      privateIpGoogleAccess: body["privateIpGoogleAccess"] === true,
      creationTimestamp: toRfc3339(deps.clock.now()),
    };
    tx.put("subnetwork", resource, subnet);
    return subnet;
  });
}

export async function createConnector(
  deps: VpcDeps,
  ctx: CallContext,
  projectId: string,
  region: string,
  connectorId: unknown,
  body: Record<string, unknown>,
): Promise<StoredConnector> {
  ctx.authorize("vpcaccess.connectors.create", `projects/${projectId}`);
  if (typeof connectorId !== "string" || !/^[a-z][-a-z0-9]{0,23}$/.test(connectorId)) {
    throw invalidArgument(
      `Invalid connector id '${String(connectorId)}': it must be 1-25 lowercase letters, digits or hyphens, starting with a letter.`,
    );
  }
  const subnetSpec = body["subnet"] as { name?: string; projectId?: string } | undefined;
  let network: string;
  let subnet: string | undefined;
  let ipCidrRange: string | undefined;
  if (subnetSpec?.name) {
    const found = await deps.store.get<StoredSubnetwork>(
      "subnetwork",
      subnetResource(subnetSpec.projectId ?? projectId, region, subnetSpec.name),
    );
    if (!found)
      throw invalidArgument(
        `Subnetwork '${subnetSpec.name}' was not found in region '${region}' of project '${subnetSpec.projectId ?? projectId}'.`,
      );
    if (!found.ipCidrRange.endsWith("/28"))
      throw invalidArgument(`Subnetwork '${found.name}' must have a /28 range to be used by a connector.`);
    network = found.network;
    subnet = found.resource;
  } else {
    ipCidrRange = String(body["ipCidrRange"] ?? "");
    if (!parseCidr(ipCidrRange) || !ipCidrRange.endsWith("/28"))
      throw invalidArgument(`Invalid IP CIDR range '${ipCidrRange}': a connector needs an unused /28.`);
    network = (await requireNetwork(deps, ctx, projectId, lastSegment(String(body["network"] ?? "default")))).resource;
  }
  const resource = connectorResource(projectId, region, connectorId);
  return deps.store.transact(async (tx) => {
    if (await tx.get("connector", resource)) throw alreadyExists(`Connector ${resource} already exists.`);
    const connector: StoredConnector = {
      resource,
      projectId,
      region,
      name: connectorId,
      network,
      ...(subnet ? { subnet } : {}),
      ...(ipCidrRange ? { ipCidrRange } : {}),
      minInstances: Number(body["minInstances"] ?? 2),
      maxInstances: Number(body["maxInstances"] ?? 10),
    };
    tx.put("connector", resource, connector);
    return connector;
  });
}
