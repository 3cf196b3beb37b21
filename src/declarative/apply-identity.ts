// Applying who is who: users, groups, service accounts, and IAM policies (the project's additively, a
// resource's as declared).
import { invalidArgument } from "../core/errors.js";
import { ensureUser, userName } from "../accounts/users.js";
import { addGroupMember, createGroup, groupName, removeGroupMember } from "../accounts/groups.js";
import {
  createServiceAccount,
  findServiceAccount,
  patchServiceAccount,
  serviceAccountName,
} from "../accounts/service-accounts.js";
import { readPolicy, setIamPolicy } from "../policies/policy-ops.js";
import type { Binding, Group, Policy } from "../iam/types.js";
import { canonical, normalizedBindings, samePolicy, type Session } from "./context.js";
import type { DeclaredBinding, DeclaredGroup, DeclaredPolicy, DeclaredServiceAccount } from "./schema.js";

export async function applyUsers(session: Session, users: readonly string[]): Promise<void> {
  for (const email of users) {
    if (await session.deps.store.get("user", userName(email))) session.same();
    else {
      await ensureUser(session.deps, email);
      session.record({ action: "created", kind: "user", name: email.toLowerCase() });
    }
  }
}

/** A group's members become exactly the declared ones. */
export async function applyGroups(session: Session, groups: readonly DeclaredGroup[]): Promise<void> {
  const { store } = session.deps;
  for (const declared of groups) {
    const existing = await store.get<Group>("group", groupName(declared.email.replace(/^group:/i, "")));
    const group = existing ?? (await createGroup(session.deps, declared.email, declared.displayName));
    const wanted = declared.members.map((m) => m.toLowerCase().replace(/^serviceaccount:/, "serviceAccount:"));
    const toAdd = wanted.filter((m) => !group.members.includes(m));
    const toRemove = group.members.filter((m) => !wanted.includes(m));
    for (const member of toAdd) await addGroupMember(session.deps, group.email, member);
    for (const member of toRemove) await removeGroupMember(session.deps, group.email, member);
    if (!existing) session.record({ action: "created", kind: "group", name: group.email });
    else if (toAdd.length + toRemove.length > 0)
      session.record({
        action: "updated",
        kind: "group",
        name: group.email,
        detail: [...toAdd.map((m) => `+${m}`), ...toRemove.map((m) => `-${m}`)].join(" "),
      });
    else session.same();
  }
}

/** `orders-sa` or `orders-sa@PROJECT.iam.gserviceaccount.com` → the account id, which must be this project's. */
export function accountIdOf(name: string, projectId: string): string {
  if (!name.includes("@")) return name;
  const [id, domain] = name.split("@");
  if (domain !== `${projectId}.iam.gserviceaccount.com`) {
    throw invalidArgument(
      `serviceAccounts: ${name} is not an account of project ${projectId}: only NAME@${projectId}.iam.gserviceaccount.com accounts can be created.`,
    );
  }
  return id ?? name;
}

export async function applyServiceAccounts(
  session: Session,
  accounts: readonly DeclaredServiceAccount[],
): Promise<void> {
  const { projectId } = session.project;
  for (const declared of accounts) {
    const accountId = accountIdOf(declared.name, projectId);
    const email = `${accountId}@${projectId}.iam.gserviceaccount.com`;
    const existing = await findServiceAccount(session.deps, projectId, email);
    if (!existing) {
      await createServiceAccount(session.deps, session.ctx, projectId, {
        accountId,
        serviceAccount: {
          ...(declared.displayName === undefined ? {} : { displayName: declared.displayName }),
          ...(declared.description === undefined ? {} : { description: declared.description }),
        },
      });
      session.record({ action: "created", kind: "serviceAccount", name: email });
    } else if (
      (declared.displayName !== undefined && declared.displayName !== existing.displayName) ||
      (declared.description !== undefined && declared.description !== existing.description)
    ) {
      await patchServiceAccount(session.deps, session.ctx, existing, {
        displayName: declared.displayName,
        description: declared.description,
      });
      session.record({ action: "updated", kind: "serviceAccount", name: email });
    } else session.same();
    if (declared.iamPolicy) {
      await applyPolicy(
        session,
        serviceAccountName(projectId, email),
        declared.iamPolicy,
        "iam.serviceAccounts.setIamPolicy",
      );
    }
  }
}

/** Makes a resource's policy grant exactly what `declared` grants. */
export async function applyPolicy(
  session: Session,
  resource: string,
  declared: DeclaredPolicy,
  permission: string,
): Promise<void> {
  const current = await readPolicy(session.deps, resource);
  const wanted: Policy = { bindings: declared.bindings as Binding[] };
  if (samePolicy(current, wanted)) {
    session.same();
    return;
  }
  await setIamPolicy(session.deps, session.ctx, resource, { policy: withVersion(wanted) }, { permission });
  session.record({ action: "updated", kind: "policy", name: resource, detail: describeBindings(wanted) });
}

/** Adds the declared bindings to the project's policy; bindings it already has stay. */
export async function applyProjectBindings(session: Session, bindings: readonly DeclaredBinding[]): Promise<void> {
  if (bindings.length === 0) return;
  const resource = `projects/${session.project.projectId}`;
  const current = await readPolicy(session.deps, resource);
  const merged = normalizedBindings(current);
  const added: string[] = [];
  for (const declared of normalizedBindings({ bindings: bindings as Binding[] })) {
    const key = canonical([declared.role, declared.condition]);
    const same = merged.find((b) => canonical([b.role, b.condition]) === key);
    const fresh = declared.members.filter((m) => !same?.members.includes(m));
    if (fresh.length > 0)
      added.push(`${declared.role}${declared.condition ? " (conditional)" : ""}: ${fresh.join(", ")}`);
    if (!same) merged.push(declared);
    else same.members = [...new Set([...same.members, ...declared.members])];
  }
  if (samePolicy(current, { bindings: merged })) {
    session.same();
    return;
  }
  await setIamPolicy(
    session.deps,
    session.ctx,
    resource,
    { policy: withVersion({ bindings: merged }) },
    { permission: "resourcemanager.projects.setIamPolicy" },
  );
  // Who gains what on the whole project is said in full: a project-wide allUsers must not pass unseen.
  session.record({
    action: "updated",
    kind: "policy",
    name: resource,
    detail: added.length > 0 ? `adds ${added.join("; ")}` : describeBindings({ bindings: merged }),
  });
}

const withVersion = (policy: Policy): Policy => ({
  ...policy,
  version: policy.bindings?.some((b) => b.condition) ? 3 : 1,
});

function describeBindings(policy: Policy): string {
  const count = policy.bindings?.reduce((n, b) => n + b.members.length, 0) ?? 0;
  return `${count} member${count === 1 ? "" : "s"} in ${policy.bindings?.length ?? 0} binding${policy.bindings?.length === 1 ? "" : "s"}`;
}
