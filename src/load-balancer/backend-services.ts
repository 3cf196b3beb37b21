// Serverless NEGs, backend services and domain mappings (domain logic, no HTTP).
import { invalidArgument, notFound } from "../core/errors.js";
import type { CallContext } from "../iam/call-context.js";
import type { Clock } from "../core/clock.js";
import type { Store } from "../store/store.js";
import { numericId } from "../core/ids.js";
import { toRfc3339 } from "../core/clock.js";
import type { StoredBackendService, StoredLoadBalancer, StoredNeg } from "./types.js";
import { fingerprint, insertNew, requireComputeName, resourceOfLink } from "./compute-resources.js";

/** What this module's operations use. */
export interface BackendServicesDeps {
  readonly clock: Clock;
  readonly store: Store;
}

export const negResource = (projectId: string, region: string, name: string) =>
  `projects/${projectId}/regions/${region}/networkEndpointGroups/${name}`;
export const backendResource = (projectId: string, name: string) =>
  `projects/${projectId}/global/backendServices/${name}`;

export async function createNeg(
  deps: BackendServicesDeps,
  ctx: CallContext,
  projectId: string,
  region: string,
  body: Record<string, unknown>,
): Promise<StoredNeg> {
  ctx.authorize("compute.regionNetworkEndpointGroups.create", `projects/${projectId}`);
  const name = requireComputeName(String(body["name"] ?? ""));
  const service = (body["cloudRun"] as { service?: string } | undefined)?.service;
  if (body["networkEndpointType"] !== "SERVERLESS" || !service)
    throw invalidArgument("Only serverless network endpoint groups for Cloud Run services are supported.");
  const neg: StoredNeg = {
    resource: negResource(projectId, region, name),
    projectId,
    region,
    name,
    id: numericId().slice(0, 19),
    cloudRunService: service,
  };
  return insertNew(deps, "networkEndpointGroup", neg);
}

export async function createBackendService(
  deps: BackendServicesDeps,
  ctx: CallContext,
  projectId: string,
  body: Record<string, unknown>,
): Promise<StoredBackendService> {
  ctx.authorize("compute.backendServices.create", `projects/${projectId}`);
  const name = requireComputeName(String(body["name"] ?? ""));
  const project = await deps.store.get<{ projectNumber: string }>("project", `projects/${projectId}`);
  const backend: StoredBackendService = {
    resource: backendResource(projectId, name),
    projectId,
    name,
    id: numericId().slice(0, 19),
    protocol: String(body["protocol"] ?? "HTTP"),
    loadBalancingScheme: String(body["loadBalancingScheme"] ?? "EXTERNAL_MANAGED"),
    timeoutSec: Number(body["timeoutSec"] ?? 30),
    backends: [],
    // The Google-managed OAuth client IAP uses: the audience programmatic callers' ID tokens must carry.
    iap: { enabled: false, oauth2ClientId: `${project?.projectNumber ?? "0"}-${name}-iap.apps.googleusercontent.com` },
    fingerprint: fingerprint(),
    creationTimestamp: toRfc3339(deps.clock.now()),
  };
  return insertNew(deps, "backendService", backend);
}

export async function requireBackendService(
  deps: BackendServicesDeps,
  ctx: CallContext,
  projectId: string,
  name: string,
  permission: string,
): Promise<StoredBackendService> {
  const resource = backendResource(projectId, name);
  ctx.authorize(permission, `projects/${projectId}`, resource);
  const backend = await deps.store.get<StoredBackendService>("backendService", resource);
  if (!backend) throw notFound(`The resource '${resource}' was not found`);
  return backend;
}

/** PATCH/PUT of a backend service as gcloud sends it: the whole resource with changes (backends, iap). */
export async function updateBackendService(
  deps: BackendServicesDeps,
  backend: StoredBackendService,
  body: Record<string, unknown>,
): Promise<StoredBackendService> {
  const backends = body["backends"] as Array<{ group?: string }> | undefined;
  const iap = body["iap"] as { enabled?: boolean } | undefined;
  const next: StoredBackendService = {
    ...backend,
    ...(backends ? { backends: backends.map((b) => resourceOfLink(b.group)) } : {}),
    ...(iap ? { iap: { ...backend.iap, enabled: iap.enabled === true } } : {}),
    fingerprint: fingerprint(),
  };
  await deps.store.transact(async (tx) => tx.put("backendService", backend.resource, next));
  return next;
}

export async function mapDomain(
  deps: BackendServicesDeps,
  ctx: CallContext,
  projectId: string,
  domain: string,
  backendName: string,
): Promise<StoredLoadBalancer> {
  const backend = await requireBackendService(deps, ctx, projectId, backendName, "compute.backendServices.use");
  ctx.authorize("compute.urlMaps.create", `projects/${projectId}`);
  if (!/^[a-z0-9.-]+$/.test(domain)) throw invalidArgument(`Invalid domain '${domain}'.`);
  const lb: StoredLoadBalancer = {
    resource: `projects/${projectId}/global/urlMaps/${domain}`,
    projectId,
    domain,
    backendService: backend.resource,
  };
  await deps.store.transact(async (tx) => tx.put("loadBalancer", lb.resource, lb));
  return lb;
}
