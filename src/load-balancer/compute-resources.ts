// What every Compute resource of the load balancer shares: its name rule, how gcloud links to it, its
// fingerprint, and creation that refuses an existing name.
import { randomBytes } from "node:crypto";
import type { Store } from "../store/store.js";
import type { Kind } from "../store/store.js";
import { alreadyExists, invalidArgument } from "../core/errors.js";

/** What this module's operations use. */
export interface ComputeResourcesDeps {
  readonly store: Store;
}

const NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

export function requireComputeName(name: string): string {
  if (!NAME.test(name)) throw invalidArgument(`Invalid value for field 'resource.name': '${name}'.`);
  return name;
}

/** A link as gcloud sends it (any host, with or without /compute/v1/) → projects/P/global/... */
export const resourceOfLink = (link: unknown) => String(link ?? "").replace(/^https?:\/\/[^/]+\/(compute\/v1\/)?/, "");

/** Base64 without "+" and "/", which gcloud re-encodes when it echoes a fingerprint back. */
export const fingerprint = () => randomBytes(8).toString("base64").replace(/\+/g, "A").replace(/\//g, "B");

export async function insertNew<T extends { resource: string }>(
  deps: ComputeResourcesDeps,
  kind: Kind,
  value: T,
): Promise<T> {
  await deps.store.transact(async (tx) => {
    if (await tx.get(kind, value.resource)) throw alreadyExists(`The resource '${value.resource}' already exists`);
    tx.put(kind, value.resource, value);
  });
  return value;
}
