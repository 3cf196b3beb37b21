// Applying Cloud Run services through run/services.ts, as the Run Admin API does: a service that differs from its
// declaration is replaced (a new revision only when its template changed), one that does not is left alone, so
// applying twice deploys nothing the second time.
import { ApiError } from "../core/errors.js";
import {
  createService,
  replaceService,
  serviceResource,
  userAnnotations,
  type RunScope,
  type ServiceInput,
} from "../run/services.js";
import { validateTemplate } from "../run/validate.js";
import { trafficOf, validateTraffic } from "../run/traffic.js";
import { computeServiceAccountEmail } from "../accounts/projects.js";
import { addImage, builtinImages, findImage, normalizeImageRef } from "../run/images.js";
import { LOCATION_LABEL } from "../run/knative-export.js";
import type { StoredService } from "../run/types.js";
import { canonical, type Session } from "./context.js";
import { applyPolicy } from "./apply-identity.js";
import type { DeclaredService } from "./schema.js";

export interface ServiceApplyOptions {
  /** Images that are neither in the local container store nor the catalogue run runguard's hello server. */
  standInImages: boolean;
}

function withoutLocation(labels: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([key]) => key !== LOCATION_LABEL));
}

/** Whether the stored service already is what `input` declares (template, annotations, labels, traffic). */
interface DeclaredInput {
  metadata: { annotations: Record<string, string>; labels: Record<string, string> };
  spec: { template: unknown; traffic?: unknown };
}

function isAsDeclared(existing: StoredService, input: DeclaredInput, scope: RunScope): boolean {
  const template = validateTemplate(input.spec.template, computeServiceAccountEmail(scope.projectNumber));
  return (
    canonical(template) === canonical(existing.template) &&
    canonical(userAnnotations(input.metadata.annotations)) === canonical(existing.annotations) &&
    canonical(input.metadata.labels) === canonical(existing.labels) &&
    canonical(trafficOf({ traffic: validateTraffic(input.spec.traffic, existing.name) })) ===
      canonical(trafficOf(existing))
  );
}

/** Maps a missing image to the built-in hello server under its own name, as `runguard images add` would. */
async function standIn(session: Session, image: string): Promise<void> {
  if (await findImage(session.deps.store, image)) return;
  if (await session.deps.containerImages?.resolve(image)) return;
  const hello = builtinImages()[0];
  if (!hello) return;
  const ref = normalizeImageRef(image);
  await addImage(session.deps.store, ref, hello.dir, hello.command);
  session.record({ action: "created", kind: "image", name: ref, detail: "runguard's hello server stands in" });
  session.note(
    `image ${ref} is not in the local container store: runguard's hello server answers in its place (podman load or runguard images add to run the real one)`,
  );
}

export async function applyServices(
  session: Session,
  services: readonly DeclaredService[],
  defaultRegion: string,
  options: ServiceApplyOptions,
): Promise<void> {
  for (const declared of services) {
    const { metadata, spec } = declared.service;
    const scope: RunScope = {
      projectId: session.project.projectId,
      projectNumber: session.project.projectNumber,
      region: metadata.labels?.[LOCATION_LABEL] ?? defaultRegion,
    };
    const input = {
      metadata: {
        name: metadata.name,
        annotations: metadata.annotations ?? {},
        labels: withoutLocation(metadata.labels),
      },
      spec: { template: spec.template, ...(spec.traffic ? { traffic: spec.traffic } : {}) },
    } satisfies ServiceInput;
    try {
      if (options.standInImages)
        for (const container of spec.template.spec?.containers ?? []) await standIn(session, container.image);
      const existing = await session.deps.store.get<StoredService>("service", serviceResource(scope, metadata.name));
      if (!existing) {
        const created = await createService(session.deps, session.ctx, scope, input);
        session.record({
          action: "created",
          kind: "service",
          name: metadata.name,
          detail: created.latestCreatedRevision,
        });
      } else if (!isAsDeclared(existing, input, scope)) {
        const replaced = await replaceService(session.deps, session.ctx, scope, metadata.name, input);
        session.record({
          action: "updated",
          kind: "service",
          name: metadata.name,
          detail: replaced.latestCreatedRevision,
        });
      } else session.same();
      if (declared.iamPolicy)
        await applyPolicy(
          session,
          serviceResource(scope, metadata.name),
          declared.iamPolicy,
          "run.services.setIamPolicy",
        );
    } catch (error) {
      // The service's name leads, so a failure in a file of many services says which one.
      if (error instanceof ApiError)
        throw new ApiError(error.status, `service ${metadata.name}: ${error.message}`, error.details);
      throw error;
    }
  }
}
