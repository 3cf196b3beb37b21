// Cloud Run services and revisions: every deploy that changes the template creates a new immutable revision.
// Authorization follows Cloud Run: run.services.* on the service, iam.serviceAccounts.actAs on its runtime
// service account, run.services.setIamPolicy to disable the invoker check.
import { randomUUID } from "node:crypto";
import { ApiError, alreadyExists, notFound, permissionDenied } from "../core/errors.js";
import type { CallContext } from "../iam/call-context.js";
import type { Clock } from "../core/clock.js";
import type { Store } from "../store/store.js";
import type { PolicyEngine } from "../iam/engine.js";
import { lowerAlnum } from "../core/ids.js";
import { toRfc3339 } from "../core/clock.js";
import { computeServiceAccountEmail } from "../accounts/projects.js";
import { findServiceAccount } from "../accounts/service-accounts.js";
import { principalEmail } from "../iam/types.js";
import { findImage, imageDigest } from "./images.js";
import { imageNotFoundMessage, pinnedImageRef, type ContainerImageStore } from "./container-images.js";
import { checkSecretAccess, secretReferences } from "./revision-secrets.js";
import { resolveVpcAccess } from "./vpc-access.js";
import { fieldViolation, validateServiceAnnotations, validateServiceName, validateTemplate } from "./validate.js";
import type { TxView } from "../store/store.js";
import { missingRevision, revisionOf, validateTraffic } from "./traffic.js";
import type { RevisionTemplate, StoredRevision, StoredService, TrafficTarget } from "./types.js";

/** What this module's operations use. */
export interface ServicesDeps {
  readonly clock: Clock;
  readonly store: Store;
  readonly engine: PolicyEngine;
  /** The local container image store; without it only catalogue images deploy. */
  readonly containerImages?: ContainerImageStore;
}

export interface RunScope {
  projectId: string;
  projectNumber: string;
  region: string;
}

export interface ServiceInput {
  metadata?: {
    name?: unknown;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    resourceVersion?: string;
  };
  spec?: { template?: unknown; traffic?: unknown };
}

const USER_ANNOTATION_DROP = [
  "serving.knative.dev/creator",
  "serving.knative.dev/lastModifier",
  "run.googleapis.com/operation-id",
  "run.googleapis.com/urls",
  "run.googleapis.com/ingress-status",
];

export const serviceResource = (scope: RunScope, name: string) =>
  `projects/${scope.projectId}/locations/${scope.region}/services/${name}`;
export const revisionResource = (scope: Pick<RunScope, "projectId" | "region">, name: string) =>
  `projects/${scope.projectId}/locations/${scope.region}/revisions/${name}`;

export function notFoundService(scope: RunScope, name: string): ApiError {
  return notFound(
    `Resource '${name}' of kind 'SERVICE' in region '${scope.region}' in project '${scope.projectId}' does not exist.`,
  );
}

/** The annotations a client may set: server-written ones (creator, URLs, ingress status) are dropped. */
export function userAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations ?? {}).filter(([k]) => !USER_ANNOTATION_DROP.includes(k)));
}

/** Deploying as a service account needs actAs on it: Google's check against privilege escalation. */
async function authorizeActAs(deps: ServicesDeps, ctx: CallContext, email: string): Promise<void> {
  const account = await findServiceAccount(deps, "-", email);
  const resource = account ? account.name : `projects/-/serviceAccounts/${email}`;
  if (!account || !ctx.holds("iam.serviceAccounts.actAs", resource)) {
    throw new ApiError(
      "PERMISSION_DENIED",
      `Permission 'iam.serviceaccounts.actAs' denied on service account ${email} (or it may not exist).`,
      [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "IAM_PERMISSION_DENIED",
          domain: "run.googleapis.com",
          metadata: { permission: "iam.serviceAccounts.actAs" },
        },
      ],
    );
  }
}

async function prepareTemplate(deps: ServicesDeps, ctx: CallContext, scope: RunScope, template: unknown) {
  const validated = validateTemplate(template, computeServiceAccountEmail(scope.projectNumber));
  const image = validated.spec.containers[0]?.image ?? "";
  const digest = await resolveImageDigest(deps, image);
  await authorizeActAs(deps, ctx, validated.spec.serviceAccountName ?? "");
  await resolveVpcAccess(deps.store, validated, scope.projectId, scope.region);
  // Cloud Run checks at deploy that the runtime service account may read every secret the revision uses.
  await checkSecretAccess(deps, secretReferences(validated), scope.projectId, validated.spec.serviceAccountName ?? "");
  return { template: validated, digest };
}

/** The revision's pinned image: a catalogue entry's, or the local container store's digest (as Cloud Run pins). */
async function resolveImageDigest(deps: ServicesDeps, image: string): Promise<string> {
  const entry = await findImage(deps.store, image);
  if (entry) return imageDigest(entry);
  const container = await deps.containerImages?.resolve(image);
  if (container) return pinnedImageRef(image, container.digest);
  throw fieldViolation("spec.template.spec.containers[0].image", imageNotFoundMessage(image));
}

function authorizeInvokerCheck(
  ctx: CallContext,
  resource: string,
  annotations: Record<string, string>,
  before?: Record<string, string>,
) {
  const key = "run.googleapis.com/invoker-iam-disabled";
  if ((annotations[key] ?? "") !== (before?.[key] ?? "")) ctx.authorize("run.services.setIamPolicy", resource);
}

/** The name a client chose for the new revision (gcloud's --revision-suffix and --tag set one), if any. */
function requestedRevisionName(template: RevisionTemplate, service: string): string | undefined {
  const name = template.metadata?.name;
  if (name === undefined || name === "") return undefined;
  if (!name.startsWith(`${service}-`) || !/^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
    throw fieldViolation(
      "spec.template.metadata.name",
      "Revision name must be prefixed by the name of the enclosing Service or Configuration with a trailing -",
    );
  }
  return name;
}

function newRevision(
  scope: RunScope,
  service: string,
  generation: number,
  template: RevisionTemplate,
  digest: string,
  now: string,
): StoredRevision {
  const name =
    requestedRevisionName(template, service) ?? `${service}-${String(generation).padStart(5, "0")}-${lowerAlnum(3)}`;
  return {
    resource: revisionResource(scope, name),
    name,
    service,
    projectId: scope.projectId,
    region: scope.region,
    generation,
    uid: randomUUID(),
    createTime: now,
    template,
    serviceAccountEmail: template.spec.serviceAccountName ?? "",
    imageDigest: digest,
  };
}

/** Every revision the traffic names must exist and be this service's (the new revision included). */
async function checkTrafficRevisions(
  tx: TxView,
  scope: RunScope,
  service: string,
  traffic: readonly TrafficTarget[],
  latestReady: string,
): Promise<void> {
  for (const target of traffic) {
    const name = revisionOf(target, { latestReadyRevision: latestReady });
    if (!name || target.latestRevision) continue;
    const revision = await tx.get<StoredRevision>("revision", revisionResource(scope, name));
    if (!revision || revision.service !== service) throw missingRevision(name);
  }
}

export async function createService(
  deps: ServicesDeps,
  ctx: CallContext,
  scope: RunScope,
  input: ServiceInput,
): Promise<StoredService> {
  const name = validateServiceName(input.metadata?.name);
  const resource = serviceResource(scope, name);
  ctx.authorize("run.services.create", resource, `namespaces/${scope.projectId}/services/${name}`);
  const annotations = userAnnotations(input.metadata?.annotations);
  validateServiceAnnotations(annotations);
  authorizeInvokerCheck(ctx, resource, annotations);
  const traffic = validateTraffic(input.spec?.traffic, name);
  const { template, digest } = await prepareTemplate(deps, ctx, scope, input.spec?.template);
  const now = toRfc3339(deps.clock.now());
  const who = principalEmail(ctx.principal) ?? "unknown";
  return deps.store.transact(async (tx) => {
    if (await tx.get("service", resource)) throw alreadyExists(`Resource '${name}' already exists.`);
    const revision = newRevision(scope, name, 1, template, digest, now);
    if (await tx.get("revision", revision.resource))
      throw alreadyExists(`Revision named '${revision.name}' with different configuration already exists.`);
    tx.put("revision", revision.resource, revision);
    await checkTrafficRevisions(tx, scope, name, traffic, revision.name);
    const service: StoredService = {
      resource,
      projectId: scope.projectId,
      region: scope.region,
      name,
      uid: randomUUID(),
      generation: 1,
      resourceVersion: lowerAlnum(12),
      createTime: now,
      creator: who,
      lastModifier: who,
      urlHash: lowerAlnum(10),
      labels: input.metadata?.labels ?? {},
      annotations,
      template,
      traffic,
      latestCreatedRevision: revision.name,
      latestReadyRevision: revision.name,
      ready: { status: "True", lastTransitionTime: now },
    };
    tx.put("service", resource, service);
    return service;
  });
}

function sameTemplate(a: RevisionTemplate, b: RevisionTemplate): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export async function replaceService(
  deps: ServicesDeps,
  ctx: CallContext,
  scope: RunScope,
  name: string,
  input: ServiceInput,
): Promise<StoredService> {
  const resource = serviceResource(scope, name);
  ctx.authorize("run.services.update", resource, `namespaces/${scope.projectId}/services/${name}`);
  const current = await deps.store.get<StoredService>("service", resource);
  if (!current) throw notFoundService(scope, name);
  if (input.metadata?.name !== undefined && input.metadata.name !== name) {
    throw fieldViolation("metadata.name", "The name in the body must match the name in the URL.");
  }
  const annotations = userAnnotations(input.metadata?.annotations);
  validateServiceAnnotations(annotations);
  authorizeInvokerCheck(ctx, resource, annotations, current.annotations);
  const traffic = validateTraffic(input.spec?.traffic, name);
  const { template, digest } = await prepareTemplate(deps, ctx, scope, input.spec?.template);
  const now = toRfc3339(deps.clock.now());
  return deps.store.transact(async (tx) => {
    const latest = await tx.get<StoredService>("service", resource);
    if (!latest) throw notFoundService(scope, name);
    const sent = input.metadata?.resourceVersion;
    if (sent !== undefined && sent !== latest.resourceVersion) {
      throw new ApiError(
        "ABORTED",
        `Conflict for resource '${name}': version '${sent}' was specified but current version is '${latest.resourceVersion}'.`,
      );
    }
    const generation = latest.generation + 1;
    const changed = !sameTemplate(latest.template, template);
    const revision = changed ? newRevision(scope, name, generation, template, digest, now) : undefined;
    if (revision) {
      if (await tx.get("revision", revision.resource))
        throw alreadyExists(`Revision named '${revision.name}' with different configuration already exists.`);
      tx.put("revision", revision.resource, revision);
    }
    const latestReady = revision?.name ?? latest.latestReadyRevision ?? latest.latestCreatedRevision;
    await checkTrafficRevisions(tx, scope, name, traffic, latestReady);
    const next: StoredService = {
      ...latest,
      generation,
      resourceVersion: lowerAlnum(12),
      annotations,
      labels: input.metadata?.labels ?? latest.labels,
      template,
      lastModifier: principalEmail(ctx.principal) ?? latest.lastModifier,
      latestCreatedRevision: revision?.name ?? latest.latestCreatedRevision,
      latestReadyRevision: latestReady,
      traffic,
      ready: { status: "True", lastTransitionTime: now },
    };
    tx.put("service", resource, next);
    return next;
  });
}

export async function getService(
  deps: ServicesDeps,
  ctx: CallContext,
  scope: RunScope,
  name: string,
  permission = "run.services.get",
): Promise<StoredService> {
  const resource = serviceResource(scope, name);
  ctx.authorize(permission, resource, `namespaces/${scope.projectId}/services/${name}`);
  const service = await deps.store.get<StoredService>("service", resource);
  if (!service) throw notFoundService(scope, name);
  return service;
}

/** Lists the services the caller may list; region "-" means every region. */
export async function listServices(
  deps: ServicesDeps,
  ctx: CallContext,
  projectId: string,
  region: string,
): Promise<StoredService[]> {
  const scopeResource = `projects/${projectId}/locations/${region}`;
  if (!ctx.holds("run.services.list", `projects/${projectId}`)) {
    throw permissionDenied("run.services.list", scopeResource, ctx.serviceName);
  }
  const prefix = region === "-" ? `projects/${projectId}/locations/` : `${scopeResource}/services/`;
  return deps.store.list<StoredService>("service", prefix);
}

export async function deleteService(
  deps: ServicesDeps,
  ctx: CallContext,
  scope: RunScope,
  name: string,
): Promise<StoredService> {
  const service = await getService(deps, ctx, scope, name, "run.services.delete");
  await deps.store.transact(async (tx) => {
    tx.delete("service", service.resource);
    tx.delete("policy", service.resource);
    for (const revision of await tx.list<StoredRevision>(
      "revision",
      `projects/${scope.projectId}/locations/${scope.region}/revisions/${name}-`,
    )) {
      if (revision.service === name) tx.delete("revision", revision.resource);
    }
  });
  return service;
}

export async function listRevisions(deps: ServicesDeps, ctx: CallContext, scope: RunScope): Promise<StoredRevision[]> {
  ctx.authorize("run.revisions.list", `projects/${scope.projectId}`);
  return deps.store.list<StoredRevision>(
    "revision",
    `projects/${scope.projectId}/locations/${scope.region}/revisions/`,
  );
}

export async function getRevision(
  deps: ServicesDeps,
  ctx: CallContext,
  scope: RunScope,
  name: string,
): Promise<StoredRevision> {
  const resource = revisionResource(scope, name);
  ctx.authorize("run.revisions.get", resource, `namespaces/${scope.projectId}/revisions/${name}`);
  const revision = await deps.store.get<StoredRevision>("revision", resource);
  if (!revision)
    throw notFound(
      `Resource '${name}' of kind 'REVISION' in region '${scope.region}' in project '${scope.projectId}' does not exist.`,
    );
  return revision;
}
