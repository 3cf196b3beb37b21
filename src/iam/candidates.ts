// The member strings a principal matches, each with how it matches: itself, every group that contains it
// (transitively, cycles tolerated), its email domain (users only), allAuthenticatedUsers, allUsers.
import type { Group, Principal } from "./types.js";

export interface Candidate {
  member: string;
  via: string;
}

/** member → the groups that list it directly. */
export type GroupIndex = Map<string, string[]>;

export function indexGroups(groups: Iterable<Group>): GroupIndex {
  const index: GroupIndex = new Map();
  for (const group of groups) {
    for (const member of group.members) {
      const key = member.toLowerCase().replace(/^serviceaccount:/, "serviceAccount:");
      const list = index.get(key) ?? [];
      list.push(`group:${group.email.toLowerCase()}`);
      index.set(key, list);
    }
  }
  return index;
}

export function principalKey(principal: Principal): string {
  return principal.kind === "anonymous" ? "allUsers" : `${principal.kind}:${principal.email.toLowerCase()}`;
}

export function candidatesOf(principal: Principal, groups: GroupIndex): Candidate[] {
  if (principal.kind === "anonymous") return [{ member: "allUsers", via: "allUsers" }];
  const self = principalKey(principal);
  const out: Candidate[] = [{ member: self, via: "direct" }];
  // Breadth-first over "is a member of", remembering the chain for explanations.
  const seen = new Set<string>([self]);
  let frontier: Candidate[] = [{ member: self, via: "" }];
  while (frontier.length > 0) {
    const next: Candidate[] = [];
    for (const { member, via } of frontier) {
      for (const group of groups.get(member) ?? []) {
        if (seen.has(group)) continue;
        seen.add(group);
        const chain = via ? `${via} -> ${group}` : group;
        out.push({ member: group, via: chain });
        next.push({ member: group, via: chain });
      }
    }
    frontier = next;
  }
  if (principal.kind === "user") {
    const domain = principal.email.split("@")[1]?.toLowerCase();
    if (domain) out.push({ member: `domain:${domain}`, via: "domain" });
  }
  out.push({ member: "allAuthenticatedUsers", via: "allAuthenticatedUsers" });
  out.push({ member: "allUsers", via: "allUsers" });
  return out;
}
