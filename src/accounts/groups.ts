// Google Groups, as Cloud Identity holds them: members are users, service accounts or other groups (nesting).
import { invalidArgument, notFound } from "../core/errors.js";
import type { Store } from "../store/store.js";
import type { Group } from "../iam/types.js";
import { parseMember } from "../iam/members.js";

/** What this module's operations use. */
export interface GroupsDeps {
  readonly store: Store;
}

export const groupName = (email: string) => `groups/${email.toLowerCase()}`;

// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const EMAIL = /^[^\s@\x00-\x1f\x7f-\x9f]+@[^\s@\x00-\x1f\x7f-\x9f]+\.[^\s@\x00-\x1f\x7f-\x9f]+$/;

/**
 * A group named as `x@example.com` or as the member `group:x@example.com` (how IAM bindings name it); any other
 * prefix names something that is not a group.
 */
export function groupEmail(text: string): string {
  const prefixed = /^([A-Za-z]+):(.*)$/.exec(text.trim());
  if (prefixed && prefixed[1]?.toLowerCase() !== "group") {
    throw invalidArgument(
      `'${text}' is not a group: name a group as EMAIL or group:EMAIL (${prefixed[1] ?? ""}: is not a group prefix).`,
    );
  }
  const email = prefixed ? (prefixed[2] ?? "") : text.trim();
  if (!EMAIL.test(email)) throw invalidArgument(`Invalid group email: '${email}'.`);
  return email.toLowerCase();
}

export async function createGroup(deps: GroupsDeps, text: string, displayName?: string): Promise<Group> {
  const email = groupEmail(text);
  return deps.store.transact(async (tx) => {
    const existing = await tx.get<Group>("group", groupName(email));
    if (existing) return existing;
    const group: Group = { email: email.toLowerCase(), members: [], ...(displayName ? { displayName } : {}) };
    tx.put("group", groupName(email), group);
    return group;
  });
}

/** Adds `member` (user:, serviceAccount: or group:) to the group, creating the group if needed. */
export async function addGroupMember(deps: GroupsDeps, text: string, member: string): Promise<Group> {
  const email = groupEmail(text);
  const parsed = parseMember(member);
  if (!["user", "serviceAccount", "group"].includes(parsed.kind)) {
    throw invalidArgument(`Groups can hold users, service accounts and groups, not '${member}'.`);
  }
  await createGroup(deps, email);
  return deps.store.transact(async (tx) => {
    const group = (await tx.get<Group>("group", groupName(email))) as Group;
    const normalized = member.toLowerCase().replace(/^serviceaccount:/, "serviceAccount:");
    if (group.members.includes(normalized)) return group;
    const next = { ...group, members: [...group.members, normalized] };
    tx.put("group", groupName(email), next);
    return next;
  });
}

export async function removeGroupMember(deps: GroupsDeps, text: string, member: string): Promise<Group> {
  const email = groupEmail(text);
  return deps.store.transact(async (tx) => {
    const group = await tx.get<Group>("group", groupName(email));
    if (!group) throw notFound(`Group ${email} does not exist.`);
    const next = { ...group, members: group.members.filter((m) => m.toLowerCase() !== member.toLowerCase()) };
    tx.put("group", groupName(email), next);
    return next;
  });
}

export async function listGroups(deps: GroupsDeps): Promise<Group[]> {
  return deps.store.list<Group>("group");
}
