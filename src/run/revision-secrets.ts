// The secrets a revision uses, read from its template as Cloud Run reads them: env vars (valueFrom.secretKeyRef)
// and files (secret volumes mounted at a path). Resolving them as Cloud Run does: at deploy, the runtime service account must be
// allowed to access each secret; at instance start, env-var secrets are read (an instance whose secret cannot
// be read does not start); files are (re)written whenever a `latest` reference gets a new version.
import { ApiError } from "../core/errors.js";
import type { Store } from "../store/store.js";
import type { PolicyEngine } from "../iam/engine.js";
import type { Envelope } from "../secrets/envelope.js";
import { findProject } from "../accounts/projects.js";
import type { StoredSecret } from "../secrets/types.js";
import type { RevisionTemplate } from "./types.js";
import { findVersion, openPayload, publicSecretName, secretResource } from "../secrets/secret-manager.js";
import { secretLocation, type SecretReference } from "../secrets/references.js";

/** What this module's operations use. */
export interface RevisionSecretsDeps {
  readonly store: Store;
  readonly engine: PolicyEngine;
  readonly envelope: Envelope;
}

export function secretReferences(template: RevisionTemplate): SecretReference[] {
  const refs: SecretReference[] = [];
  const container = template.spec.containers[0];
  (container?.env ?? []).forEach((variable, i) => {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref)
      refs.push({
        kind: "env",
        target: variable.name,
        secret: ref.name,
        version: String(ref.key),
        field: `spec.template.spec.containers[0].env[${i}].value_from.secret_key_ref.name`,
      });
  });
  const volumes = new Map((template.spec.volumes ?? []).map((v, i) => [v.name, { volume: v, index: i }]));
  for (const mount of container?.volumeMounts ?? []) {
    const entry = volumes.get(mount.name);
    const source = entry?.volume.secret;
    if (!entry || !source) continue;
    const items = source.items && source.items.length > 0 ? source.items : [{ key: "latest", path: source.secretName }];
    items.forEach((item, j) =>
      refs.push({
        kind: "file",
        target: `${mount.mountPath.replace(/\/$/, "")}/${item.path}`,
        secret: source.secretName,
        version: String(item.key),
        field: `spec.template.spec.volumes[${entry.index}].secret.items[${j}].key`,
      }),
    );
  }
  return refs;
}

async function locate(deps: Pick<RevisionSecretsDeps, "store">, reference: SecretReference, projectId: string) {
  const { project, secretId } = secretLocation(reference, projectId);
  const found = await findProject(deps, project);
  const scope = { projectId: found?.projectId ?? project, projectNumber: found?.projectNumber ?? project };
  return { scope, secretId, resource: secretResource(scope, secretId), publicName: publicSecretName(scope, secretId) };
}

/** Deploy-time check: one FAILED_PRECONDITION naming every reference the service account cannot read. */
export async function checkSecretAccess(
  deps: Pick<RevisionSecretsDeps, "store" | "engine">,
  references: SecretReference[],
  projectId: string,
  serviceAccount: string,
): Promise<void> {
  const problems: string[] = [];
  for (const reference of references) {
    const { resource, publicName } = await locate(deps, reference, projectId);
    const secret = await deps.store.get<StoredSecret>("secret", resource);
    const versionName = `${publicName}/versions/${reference.version}`;
    if (!secret) {
      problems.push(`${reference.field}: Secret ${versionName} was not found.`);
      continue;
    }
    const allowed = deps.engine.decide(
      { kind: "serviceAccount", email: serviceAccount },
      "secretmanager.versions.access",
      resource,
    ).allowed;
    if (!allowed) {
      problems.push(
        `${reference.field}: Permission denied on secret: ${versionName} for Revision service account ${serviceAccount}. The service account used must be granted the 'Secret Manager Secret Accessor' role (roles/secretmanager.secretAccessor) at the secret, project or higher level.`,
      );
    } else if (reference.version === "latest" && secret.lastVersion === 0) {
      problems.push(`${reference.field}: Secret ${versionName} was not found.`);
    }
  }
  if (problems.length > 0) throw new ApiError("FAILED_PRECONDITION", problems.join("\n"));
}

/** Reads one referenced payload with the runtime service account's permissions. */
export async function readSecretReference(
  deps: RevisionSecretsDeps,
  reference: SecretReference,
  projectId: string,
  serviceAccount: string,
): Promise<Buffer> {
  const { resource, publicName } = await locate(deps, reference, projectId);
  if (
    !deps.engine.decide({ kind: "serviceAccount", email: serviceAccount }, "secretmanager.versions.access", resource)
      .allowed
  ) {
    throw new ApiError(
      "PERMISSION_DENIED",
      `Permission 'secretmanager.versions.access' denied for resource '${publicName}/versions/${reference.version}' (or it may not exist).`,
    );
  }
  const secret = await deps.store.get<StoredSecret>("secret", resource);
  if (!secret) throw new ApiError("NOT_FOUND", `Secret [${publicName}] not found or has no versions.`);
  const version = await findVersion(deps, secret, reference.version, publicName);
  return openPayload(deps, version, `${publicName}/versions/${version.version}`);
}
