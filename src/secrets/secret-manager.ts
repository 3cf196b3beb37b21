// Secret Manager (secretmanager.googleapis.com v1): secrets, versions, the `latest` alias, payload access.
// IAM is on the secret; versions use their secret's policy. Payloads exist only sealed (see envelope.ts).
import crc32c from "crc-32/crc32c.js";
import { ApiError, alreadyExists, failedPrecondition, invalidArgument, notFound } from "../core/errors.js";
import type { CallContext } from "../iam/call-context.js";
import type { Clock } from "../core/clock.js";
import type { Store } from "../store/store.js";
import type { Envelope } from "./envelope.js";
import { toRfc3339 } from "../core/clock.js";
import { lowerAlnum } from "../core/ids.js";
import type { StoredSecret, StoredVersion, VersionState } from "./types.js";

/** What this module's operations use. */
export interface SecretManagerDeps {
  readonly clock: Clock;
  readonly store: Store;
  readonly envelope: Envelope;
}

const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export interface SecretScope {
  projectId: string;
  projectNumber: string;
}

export const secretResource = (scope: SecretScope, id: string) => `projects/${scope.projectId}/secrets/${id}`;
export const publicSecretName = (scope: SecretScope, id: string) => `projects/${scope.projectNumber}/secrets/${id}`;
const versionResource = (secret: string, version: number) => `${secret}/versions/${version}`;
const newEtag = () => `"${lowerAlnum(14)}"`;

export function crc32cOf(data: Buffer): string {
  return String(crc32c.buf(data) >>> 0);
}

export async function createSecret(
  deps: SecretManagerDeps,
  ctx: CallContext,
  scope: SecretScope,
  secretId: unknown,
  body: Record<string, unknown>,
): Promise<StoredSecret> {
  ctx.authorize("secretmanager.secrets.create", `projects/${scope.projectId}`);
  if (typeof secretId !== "string" || !SECRET_ID.test(secretId)) {
    throw invalidArgument(
      `Secret id [${String(secretId ?? "")}] is invalid: it must be 1-255 characters of letters, numbers, hyphens and underscores.`,
    );
  }
  const replication = body["replication"];
  if (
    typeof replication !== "object" ||
    replication === null ||
    !("automatic" in replication || "userManaged" in replication)
  ) {
    throw invalidArgument("Secret.replication is required: set replication.automatic or replication.userManaged.");
  }
  const resource = secretResource(scope, secretId);
  return deps.store.transact(async (tx) => {
    if (await tx.get("secret", resource))
      throw alreadyExists(`Secret [${publicSecretName(scope, secretId)}] already exists.`);
    const secret: StoredSecret = {
      resource,
      projectId: scope.projectId,
      secretId,
      createTime: toRfc3339(deps.clock.now()),
      replication: replication as Record<string, unknown>,
      ...(body["labels"] ? { labels: body["labels"] as Record<string, string> } : {}),
      ...(body["annotations"] ? { annotations: body["annotations"] as Record<string, string> } : {}),
      etag: newEtag(),
      lastVersion: 0,
    };
    tx.put("secret", resource, secret);
    return secret;
  });
}

/** Checks `permission` on the secret before saying whether it exists, as Google does. */
export async function requireSecret(
  deps: SecretManagerDeps,
  ctx: CallContext,
  scope: SecretScope,
  id: string,
  permission: string,
): Promise<StoredSecret> {
  const resource = secretResource(scope, id);
  ctx.authorize(permission, resource, publicSecretName(scope, id));
  const secret = await deps.store.get<StoredSecret>("secret", resource);
  if (!secret) throw notFound(`Secret [${publicSecretName(scope, id)}] not found.`);
  return secret;
}

export async function listSecrets(
  deps: SecretManagerDeps,
  ctx: CallContext,
  scope: SecretScope,
): Promise<StoredSecret[]> {
  ctx.authorize("secretmanager.secrets.list", `projects/${scope.projectId}`);
  return deps.store.list<StoredSecret>("secret", `projects/${scope.projectId}/secrets/`);
}

export async function updateSecret(
  deps: SecretManagerDeps,
  secret: StoredSecret,
  body: Record<string, unknown>,
  updateMask: string | null,
): Promise<StoredSecret> {
  const fields = (updateMask ?? "")
    .split(",")
    .map((f) => f.trim())
    .filter(Boolean);
  if (fields.length === 0) throw invalidArgument("update_mask is required.");
  const unknown = fields.filter((f) => !["labels", "annotations"].includes(f));
  if (unknown.length > 0) throw invalidArgument(`Unsupported update_mask paths: ${unknown.join(", ")}.`);
  return deps.store.transact(async (tx) => {
    const current = (await tx.get<StoredSecret>("secret", secret.resource)) ?? secret;
    const next: StoredSecret = { ...current, etag: newEtag() };
    for (const field of fields) next[field as "labels" | "annotations"] = (body[field] as Record<string, string>) ?? {};
    tx.put("secret", secret.resource, next);
    return next;
  });
}

export async function deleteSecret(deps: SecretManagerDeps, secret: StoredSecret, etag: string | null): Promise<void> {
  await deps.store.transact(async (tx) => {
    const current = await tx.get<StoredSecret>("secret", secret.resource);
    if (!current) throw notFound(`Secret [${secret.secretId}] not found.`);
    if (etag && etag !== current.etag)
      throw new ApiError("ABORTED", "The etag provided does not match the current etag of the secret.");
    for (const version of await tx.list<StoredVersion>("secretVersion", `${secret.resource}/versions/`))
      tx.delete("secretVersion", version.resource);
    tx.delete("secret", secret.resource);
    tx.delete("policy", secret.resource);
  });
}

function decodePayload(payload: unknown): { data: Buffer; crc?: string } {
  const p = payload as { data?: unknown; dataCrc32c?: unknown } | undefined;
  if (typeof p?.data !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(p.data))
    throw invalidArgument("SecretPayload.data must be base64-encoded bytes.");
  const data = Buffer.from(p.data, "base64");
  if (data.length === 0) throw invalidArgument("SecretPayload.data must not be empty.");
  if (data.length > MAX_PAYLOAD_BYTES)
    throw invalidArgument(`SecretPayload.data is ${data.length} bytes; it must be no larger than 65536 bytes.`);
  const crc = p.dataCrc32c === undefined || p.dataCrc32c === null ? undefined : String(p.dataCrc32c);
  if (crc !== undefined && crc !== crc32cOf(data)) {
    throw invalidArgument(
      "Data integrity check failed: the dataCrc32c does not match the payload. Please recompute the checksum and resend.",
    );
  }
  return crc === undefined ? { data } : { data, crc };
}

export async function addVersion(
  deps: SecretManagerDeps,
  secret: StoredSecret,
  payload: unknown,
): Promise<StoredVersion> {
  const { data, crc } = decodePayload(payload);
  return deps.store.transact(async (tx) => {
    const current = await tx.get<StoredSecret>("secret", secret.resource);
    if (!current) throw notFound(`Secret [${secret.secretId}] not found.`);
    const number = current.lastVersion + 1;
    const resource = versionResource(secret.resource, number);
    const version: StoredVersion = {
      resource,
      secret: secret.resource,
      version: number,
      state: "ENABLED",
      createTime: toRfc3339(deps.clock.now()),
      etag: newEtag(),
      clientSpecifiedPayloadChecksum: crc !== undefined,
      crc32c: crc32cOf(data),
      sealed: deps.envelope.seal(data, resource),
    };
    tx.put("secretVersion", resource, version);
    tx.put("secret", secret.resource, { ...current, lastVersion: number });
    return version;
  });
}

/** Resolves `latest` to the newest version whatever its state, as Google does (no fallback to an older one). */
export async function findVersion(
  deps: Pick<SecretManagerDeps, "store">,
  secret: StoredSecret,
  versionId: string,
  publicName: string,
): Promise<StoredVersion> {
  if (versionId === "latest") {
    const versions = await deps.store.list<StoredVersion>("secretVersion", `${secret.resource}/versions/`);
    const newest = versions.sort((a, b) => b.version - a.version)[0];
    if (!newest) throw notFound(`Secret [${publicName}] not found or has no versions.`);
    return newest;
  }
  if (!/^\d+$/.test(versionId))
    throw invalidArgument(`Invalid secret version [${versionId}]: use a number or "latest".`);
  const version = await deps.store.get<StoredVersion>(
    "secretVersion",
    versionResource(secret.resource, Number(versionId)),
  );
  if (!version) throw notFound(`Secret Version [${publicName}/versions/${versionId}] not found.`);
  return version;
}

export function openPayload(
  deps: Pick<SecretManagerDeps, "envelope">,
  version: StoredVersion,
  publicVersionName: string,
): Buffer {
  if (version.state !== "ENABLED" || !version.sealed) {
    throw failedPrecondition(`Secret Version [${publicVersionName}] is in ${version.state} state.`);
  }
  return deps.envelope.open(version.sealed, version.resource);
}

export async function listVersions(deps: SecretManagerDeps, secret: StoredSecret): Promise<StoredVersion[]> {
  const versions = await deps.store.list<StoredVersion>("secretVersion", `${secret.resource}/versions/`);
  return versions.sort((a, b) => b.version - a.version);
}

export async function setVersionState(
  deps: SecretManagerDeps,
  version: StoredVersion,
  state: VersionState,
  etag: string | null,
  publicName: string,
): Promise<StoredVersion> {
  return deps.store.transact(async (tx) => {
    const current = await tx.get<StoredVersion>("secretVersion", version.resource);
    if (!current) throw notFound(`Secret Version [${publicName}] not found.`);
    if (etag && etag !== current.etag)
      throw new ApiError("ABORTED", "The etag provided does not match the current etag of the secret version.");
    if (current.state === "DESTROYED")
      throw failedPrecondition(`Secret Version [${publicName}] is in DESTROYED state.`);
    const { sealed, ...rest } = current;
    const next: StoredVersion =
      state === "DESTROYED"
        ? { ...rest, state, destroyTime: toRfc3339(deps.clock.now()), etag: newEtag() }
        : { ...rest, ...(sealed ? { sealed } : {}), state, etag: newEtag() };
    tx.put("secretVersion", version.resource, next);
    return next;
  });
}
