// get/set/testIamPermissions shared by every resource that carries an IAM policy (projects, service accounts,
// Cloud Run services, secrets, backend services). Callers first make sure the resource exists.
import { aborted, invalidArgument } from "../core/errors.js";
import type { CallContext } from "../iam/call-context.js";
import type { Store } from "../store/store.js";
import type { PolicyEngine } from "../iam/engine.js";
import { etagBytes, policyEtag } from "../core/ids.js";
import type { Policy } from "../iam/types.js";
import { policyForResponse, validatePolicy } from "../iam/policy.js";

/** What this module's operations use. */
export interface PolicyOpsDeps {
  readonly store: Store;
  readonly engine: PolicyEngine;
}

export interface StoredPolicy {
  resource: string;
  policy: Policy;
}

/** The etag Google returns for a resource whose policy was never set. */
export const NEVER_SET_ETAG = "ACAB";

export async function readPolicy(deps: PolicyOpsDeps, resource: string): Promise<Policy> {
  const stored = await deps.store.get<StoredPolicy>("policy", resource);
  return stored?.policy ?? { etag: NEVER_SET_ETAG };
}

export interface PolicyAccess {
  /** e.g. run.services.getIamPolicy */
  permission: string;
  /** The resource name as the request named it, used in error messages. */
  shownAs?: string;
}

export async function getIamPolicy(
  deps: PolicyOpsDeps,
  ctx: CallContext,
  resource: string,
  access: PolicyAccess,
  requestedVersion: unknown,
): Promise<Policy> {
  ctx.authorize(access.permission, resource, access.shownAs);
  return policyForResponse(await readPolicy(deps, resource), parseRequestedVersion(requestedVersion));
}

function parseRequestedVersion(value: unknown): number {
  if (value === undefined || value === null || value === "") return 0;
  const version = Number(value);
  if (![0, 1, 3].includes(version)) {
    throw invalidArgument(`Invalid requested policy version: ${String(value)}. Valid values are 0, 1, and 3.`);
  }
  return version;
}

export async function setIamPolicy(
  deps: PolicyOpsDeps,
  ctx: CallContext,
  resource: string,
  request: unknown,
  access: PolicyAccess,
): Promise<Policy> {
  ctx.authorize(access.permission, resource, access.shownAs);
  const { policy, updateMask } = parseSetRequest(request);
  const validated = validatePolicy(policy);
  const saved = await deps.store.transact(async (tx) => {
    const current = (await tx.get<StoredPolicy>("policy", resource))?.policy ?? { etag: NEVER_SET_ETAG };
    const currentEtag = current.etag ?? NEVER_SET_ETAG;
    if (policy.etag !== undefined && etagBytes(policy.etag) !== etagBytes(currentEtag)) {
      throw aborted(
        "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff. " +
          `The request's ETag '${escapeEtag(policy.etag)}' did not match the current policy's ETag '${escapeEtag(currentEtag)}'.`,
      );
    }
    const keepAuditConfigs = !updateMask.includes("auditConfigs") && current.auditConfigs;
    const next: Policy = {
      ...validated,
      ...(keepAuditConfigs ? { auditConfigs: current.auditConfigs } : {}),
      etag: policyEtag(),
    };
    tx.put("policy", resource, { resource, policy: next } satisfies StoredPolicy);
    return next;
  });
  return policyForResponse(saved, 3);
}

function parseSetRequest(request: unknown): { policy: Policy; updateMask: string[] } {
  if (typeof request !== "object" || request === null || !("policy" in request)) {
    throw invalidArgument("Invalid JSON payload: 'policy' is required.");
  }
  const { policy, updateMask } = request as { policy: unknown; updateMask?: unknown };
  if (typeof policy !== "object" || policy === null || Array.isArray(policy)) {
    throw invalidArgument("Invalid value at 'policy': expected an object.");
  }
  const mask = typeof updateMask === "string" ? updateMask.split(",").map((s) => s.trim()) : [];
  return { policy: policy as Policy, updateMask: mask };
}

/** Renders etag bytes the way Google's message does: printable ASCII as is, other bytes as octal escapes. */
function escapeEtag(etag: string): string {
  const bytes = Buffer.from(etagBytes(etag), "hex");
  let out = "";
  for (const byte of bytes) {
    out +=
      byte >= 0x20 && byte < 0x7f && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\${byte.toString(8).padStart(3, "0")}`;
  }
  return out;
}

export function testIamPermissions(
  deps: PolicyOpsDeps,
  ctx: CallContext,
  resource: string,
  request: unknown,
): { permissions?: string[] } {
  const permissions = (request as { permissions?: unknown } | null)?.permissions ?? [];
  if (!Array.isArray(permissions) || permissions.some((p) => typeof p !== "string")) {
    throw invalidArgument("Invalid value at 'permissions': expected a list of strings.");
  }
  const wildcards = permissions.filter((p: string) => p.includes("*"));
  if (wildcards.length > 0) {
    throw invalidArgument(`Permissions (${wildcards.map((p: string) => `'${p}'`).join(", ")}) are not allowed.`);
  }
  const held = (permissions as string[]).filter((p) => deps.engine.decide(ctx.principal, p, resource).allowed);
  return held.length > 0 ? { permissions: held } : {};
}
