// Resolving a revision's secret references as Cloud Run does: at deploy, the runtime service account must be
// allowed to access each secret; at instance start, env-var secrets are read (an instance whose secret cannot
// be read does not start); files are (re)written whenever a `latest` reference gets a new version.
import { ApiError } from "../core/errors.js";
import type { Platform } from "../core/platform.js";
import { findProject } from "../accounts/projects.js";
import type { StoredSecret } from "./types.js";
import { findVersion, openPayload, publicSecretName, secretResource } from "./secret-manager.js";
import { secretLocation, type SecretReference } from "./references.js";

async function locate(platform: Platform, reference: SecretReference, projectId: string) {
  const { project, secretId } = secretLocation(reference, projectId);
  const found = await findProject(platform, project);
  const scope = { projectId: found?.projectId ?? project, projectNumber: found?.projectNumber ?? project };
  return { scope, secretId, resource: secretResource(scope, secretId), publicName: publicSecretName(scope, secretId) };
}

/** Deploy-time check: one FAILED_PRECONDITION naming every reference the service account cannot read. */
export async function checkSecretAccess(
  platform: Platform,
  references: SecretReference[],
  projectId: string,
  serviceAccount: string,
): Promise<void> {
  const problems: string[] = [];
  for (const reference of references) {
    const { resource, publicName } = await locate(platform, reference, projectId);
    const secret = await platform.store.get<StoredSecret>("secret", resource);
    const versionName = `${publicName}/versions/${reference.version}`;
    if (!secret) {
      problems.push(`${reference.field}: Secret ${versionName} was not found.`);
      continue;
    }
    const allowed = platform.engine.decide(
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
  platform: Platform,
  reference: SecretReference,
  projectId: string,
  serviceAccount: string,
): Promise<Buffer> {
  const { resource, publicName } = await locate(platform, reference, projectId);
  if (
    !platform.engine.decide(
      { kind: "serviceAccount", email: serviceAccount },
      "secretmanager.versions.access",
      resource,
    ).allowed
  ) {
    throw new ApiError(
      "PERMISSION_DENIED",
      `Permission 'secretmanager.versions.access' denied for resource '${publicName}/versions/${reference.version}' (or it may not exist).`,
    );
  }
  const secret = await platform.store.get<StoredSecret>("secret", resource);
  if (!secret) throw new ApiError("NOT_FOUND", `Secret [${publicName}] not found or has no versions.`);
  const version = await findVersion(platform, secret, reference.version, publicName);
  return openPayload(platform, version, `${publicName}/versions/${version.version}`);
}
