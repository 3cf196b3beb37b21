// Service accounts (iam.googleapis.com v1): create, list, get, patch, disable/enable, delete.
import { alreadyExists, invalidArgument, notFound } from "../core/errors.js";
import type { CallContext } from "../iam/call-context.js";
import type { Store } from "../store/store.js";
import { numericId, policyEtag } from "../core/ids.js";
import type { StoredPolicy } from "../policies/policy-ops.js";
import type { TxView } from "../store/store.js";

/** What this module's operations use. */
export interface ServiceAccountsDeps {
  readonly store: Store;
}

export interface ServiceAccount {
  name: string;
  projectId: string;
  uniqueId: string;
  email: string;
  displayName?: string;
  description?: string;
  etag: string;
  oauth2ClientId: string;
  disabled?: boolean;
  /** Google-managed service agents are not listed by serviceAccounts.list. */
  serviceAgent?: boolean;
}

const ACCOUNT_ID = /^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$/;

export const serviceAccountName = (projectId: string, email: string) =>
  `projects/${projectId}/serviceAccounts/${email}`;

export function newServiceAccount(projectId: string, email: string, displayName?: string): ServiceAccount {
  const uniqueId = numericId();
  return {
    name: serviceAccountName(projectId, email),
    projectId,
    uniqueId,
    email,
    ...(displayName === undefined ? {} : { displayName }),
    etag: policyEtag(),
    oauth2ClientId: uniqueId,
  };
}

/** The project an email of the form NAME@PROJECT.iam.gserviceaccount.com belongs to. */
export function projectOfEmail(email: string): string | undefined {
  return /^[^@]+@([a-z][a-z0-9-]+)\.iam\.gserviceaccount\.com$/.exec(email)?.[1];
}

export interface CreateServiceAccountInput {
  accountId?: unknown;
  serviceAccount?: { displayName?: unknown; description?: unknown };
}

export async function createServiceAccount(
  deps: ServiceAccountsDeps,
  ctx: CallContext,
  projectId: string,
  input: CreateServiceAccountInput,
): Promise<ServiceAccount> {
  ctx.authorize("iam.serviceAccounts.create", `projects/${projectId}`);
  const accountId = input.accountId;
  if (typeof accountId !== "string" || !ACCOUNT_ID.test(accountId)) {
    throw invalidArgument(
      `Invalid value for [accountId]: ${JSON.stringify(accountId ?? "")}. Service account IDs must be between 6 and 30 characters, start with a lowercase letter, and contain only lowercase letters, digits and hyphens.`,
    );
  }
  const email = `${accountId}@${projectId}.iam.gserviceaccount.com`;
  const displayName = optionalString(input.serviceAccount?.displayName, "serviceAccount.displayName", 100);
  const description = optionalString(input.serviceAccount?.description, "serviceAccount.description", 256);
  return deps.store.transact(async (tx) => {
    const name = serviceAccountName(projectId, email);
    if (await tx.get("serviceAccount", name)) {
      throw alreadyExists(`Service account ${accountId} already exists within project projects/${projectId}.`, [
        {
          "@type": "type.googleapis.com/google.rpc.ResourceInfo",
          resourceName: `projects/${projectId}/serviceAccounts/${email}`,
        },
      ]);
    }
    const account = { ...newServiceAccount(projectId, email, displayName), ...(description ? { description } : {}) };
    tx.put("serviceAccount", name, account);
    return account;
  });
}

function optionalString(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.length > max) {
    throw invalidArgument(`Invalid value at '${field}': expected a string of at most ${max} characters.`);
  }
  return value;
}

export async function listServiceAccounts(
  deps: ServiceAccountsDeps,
  ctx: CallContext,
  projectId: string,
): Promise<ServiceAccount[]> {
  ctx.authorize("iam.serviceAccounts.list", `projects/${projectId}`);
  const all = await deps.store.list<ServiceAccount>("serviceAccount", `projects/${projectId}/serviceAccounts/`);
  return all.filter((a) => !a.serviceAgent);
}

/** Finds an account by email or unique id; `projectId` may be "-" as in Google's paths. */
export async function findServiceAccount(
  deps: ServiceAccountsDeps,
  projectId: string,
  emailOrId: string,
): Promise<ServiceAccount | undefined> {
  const all = await deps.store.list<ServiceAccount>(
    "serviceAccount",
    projectId === "-" ? "projects/" : `projects/${projectId}/`,
  );
  const key = emailOrId.toLowerCase();
  return all.find((a) => a.email.toLowerCase() === key || a.uniqueId === emailOrId);
}

/**
 * Resolves an account and checks `permission` on it before revealing whether it exists: a caller without the
 * permission learns nothing (403 "or it may not exist"), one with it gets 404 for a missing account.
 */
export async function requireServiceAccount(
  deps: ServiceAccountsDeps,
  ctx: CallContext,
  projectId: string,
  emailOrId: string,
  permission: string,
): Promise<ServiceAccount> {
  const account = await findServiceAccount(deps, projectId, emailOrId);
  const ownerProject = account?.projectId ?? (projectId === "-" ? projectOfEmail(emailOrId) : projectId);
  const shownAs = `projects/${projectId}/serviceAccounts/${emailOrId}`;
  if (ownerProject === undefined) {
    throw notFound(`Service account ${shownAs} does not exist.`);
  }
  ctx.authorize(permission, serviceAccountName(ownerProject, account?.email ?? emailOrId), shownAs);
  if (!account) throw notFound(`Service account ${shownAs} does not exist.`);
  return account;
}

export async function patchServiceAccount(
  deps: ServiceAccountsDeps,
  ctx: CallContext,
  account: ServiceAccount,
  patch: { displayName?: unknown; description?: unknown },
): Promise<ServiceAccount> {
  ctx.authorize("iam.serviceAccounts.update", account.name);
  const displayName = optionalString(patch.displayName, "serviceAccount.displayName", 100);
  const description = optionalString(patch.description, "serviceAccount.description", 256);
  return updateAccount(deps, account.name, (a) => ({
    ...a,
    ...(displayName === undefined ? {} : { displayName }),
    ...(description === undefined ? {} : { description }),
  }));
}

export async function setServiceAccountDisabled(
  deps: ServiceAccountsDeps,
  ctx: CallContext,
  account: ServiceAccount,
  disabled: boolean,
): Promise<void> {
  ctx.authorize(disabled ? "iam.serviceAccounts.disable" : "iam.serviceAccounts.enable", account.name);
  await updateAccount(deps, account.name, (a) => {
    const { disabled: _old, ...rest } = a;
    return disabled ? { ...rest, disabled: true } : rest;
  });
}

async function updateAccount(
  deps: ServiceAccountsDeps,
  name: string,
  change: (account: ServiceAccount) => ServiceAccount,
): Promise<ServiceAccount> {
  return deps.store.transact(async (tx) => {
    const current = await tx.get<ServiceAccount>("serviceAccount", name);
    if (!current) throw notFound(`Service account ${name} does not exist.`);
    const next = { ...change(current), etag: policyEtag() };
    tx.put("serviceAccount", name, next);
    return next;
  });
}

/** Deletes the account and its keys; bindings that named it now show it as deleted:serviceAccount:…?uid=…, as Google does. */
export async function deleteServiceAccount(
  deps: ServiceAccountsDeps,
  ctx: CallContext,
  account: ServiceAccount,
): Promise<void> {
  ctx.authorize("iam.serviceAccounts.delete", account.name);
  await deps.store.transact(async (tx) => {
    tx.delete("serviceAccount", account.name);
    for (const key of await tx.list<{ name: string }>("serviceAccountKey", `${account.name}/keys/`)) {
      tx.delete("serviceAccountKey", key.name);
    }
    await markMemberDeleted(tx, `serviceAccount:${account.email}`, account.uniqueId);
  });
}

async function markMemberDeleted(tx: TxView, member: string, uid: string): Promise<void> {
  for (const stored of await tx.list<StoredPolicy>("policy")) {
    if (!stored.policy.bindings?.some((b) => b.members.includes(member))) continue;
    const bindings = stored.policy.bindings.map((b) => ({
      ...b,
      members: b.members.map((m) => (m === member ? `deleted:${member}?uid=${uid}` : m)),
    }));
    tx.put("policy", stored.resource, {
      resource: stored.resource,
      policy: { ...stored.policy, bindings, etag: policyEtag() },
    });
  }
}
