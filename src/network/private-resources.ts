// Private resources (an address:port inside a VPC network) and the loopback endpoints that stand for them,
// kept in memory from the store for the egress proxies.
import { invalidArgument } from "../core/errors.js";
import type { Store } from "../store/store.js";
import { isPrivateAddress } from "./cidr.js";
import type { PrivateResource } from "./vpc-types.js";

export interface PrivateResourceIndex {
  list(): PrivateResource[];
  close(): void;
}

export async function createPrivateResourceIndex(store: Store): Promise<PrivateResourceIndex> {
  let all = await store.list<PrivateResource>("privateResource");
  const unsubscribe = store.onChange((change) => {
    if (change.kind === "privateResource" || change.kind === "*")
      void store.list<PrivateResource>("privateResource").then((list) => (all = list));
  });
  return { list: () => all, close: unsubscribe };
}

const LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

export function parsePrivateResource(
  projectId: string,
  network: string,
  address: unknown,
  target: unknown,
  description?: unknown,
): PrivateResource {
  const [host = "", port = ""] = String(address ?? "").split(":");
  if (!isPrivateAddress(host) || !/^\d+$/.test(port)) {
    throw invalidArgument(
      `Invalid private address '${String(address)}': expected a private IPv4 address and a port, e.g. 10.8.0.5:5432.`,
    );
  }
  const [targetHost = "", targetPort = ""] = String(target ?? "").split(":");
  if (!LOOPBACK.test(targetHost) || !/^\d+$/.test(targetPort)) {
    throw invalidArgument(
      `Invalid target '${String(target)}': a private address maps to a loopback endpoint such as 127.0.0.1:5432.`,
    );
  }
  return {
    resource: `${network}/privateResources/${host}:${port}`,
    projectId,
    network,
    address: host,
    port: Number(port),
    target: { host: targetHost, port: Number(targetPort) },
    ...(typeof description === "string" ? { description } : {}),
  };
}
