// The IAM decision engine: policies in memory, indexed per (resource, permission) → member → binding, built
// lazily and dropped when a policy or group changes. A decision is a handful of Map lookups, and it says which
// binding granted it. Conditional bindings are evaluated with CEL at decision time.
import { systemClock, type Clock } from "../core/clock.js";
import { ancestorsOf } from "./hierarchy.js";
import { candidatesOf, indexGroups, principalKey, type Candidate, type GroupIndex } from "./candidates.js";
import { compileCondition, evaluateCompiled, resourceTypeOf } from "./conditions.js";
import { roleGrants } from "./roles.js";
import { explainDecision, listHolders, type Explanation, type Holder } from "./explain.js";
import type { Binding, Decision, Group, Policy, Principal } from "./types.js";

interface ConditionalGrant {
  members: ReadonlySet<string>;
  binding: Binding;
  compiled: ReturnType<typeof compileCondition>;
}

interface PermissionIndex {
  unconditional: Map<string, Binding>;
  conditional: ConditionalGrant[];
  /** Cloud Storage's convenience members (`projectOwner:P`…), as a bucket's default policy holds them. */
  convenience: { member: string; binding: Binding; basicRole: string; project: string }[];
}

/** `projectOwner:P` stands for whoever holds roles/owner on project P (so for Editor and Viewer). */
const CONVENIENCE_MEMBER = /^project(Owner|Editor|Viewer):(.+)$/;

export interface PolicyEngine {
  setPolicy(resource: string, policy: Policy | undefined): void;
  setGroup(email: string, group: Group | undefined): void;
  /** Forget everything (before a full reload). */
  reset(): void;
  decide(principal: Principal, permission: string, resource: string): Decision;
  explain(principal: Principal, permission: string, resource: string): Explanation;
  whoCan(permission: string, resource: string): Holder[];
  testPermissions(principal: Principal, permissions: readonly string[], resource: string): string[];
  policyOf(resource: string): Policy | undefined;
  groups(): Group[];
}

export function createPolicyEngine(options: { clock?: Clock } = {}): PolicyEngine {
  const clock = options.clock ?? systemClock;
  const policies = new Map<string, Policy>();
  const indexes = new Map<string, Map<string, PermissionIndex>>();
  const groups = new Map<string, Group>();
  let groupIndex: GroupIndex = new Map();
  const candidateCache = new Map<string, Candidate[]>();
  const ancestorCache = new Map<string, string[]>();

  const ancestors = (resource: string) => {
    let list = ancestorCache.get(resource);
    if (!list) {
      if (ancestorCache.size > 50_000) ancestorCache.clear();
      ancestorCache.set(resource, (list = ancestorsOf(resource)));
    }
    return list;
  };

  const candidates = (principal: Principal) => {
    const key = principalKey(principal);
    let list = candidateCache.get(key);
    if (!list) {
      if (candidateCache.size > 50_000) candidateCache.clear();
      candidateCache.set(key, (list = candidatesOf(principal, groupIndex)));
    }
    return list;
  };

  const permissionIndex = (resource: string, permission: string): PermissionIndex | undefined => {
    const policy = policies.get(resource);
    if (!policy?.bindings) return undefined;
    let byPermission = indexes.get(resource);
    if (!byPermission) indexes.set(resource, (byPermission = new Map()));
    let index = byPermission.get(permission);
    if (!index) {
      index = { unconditional: new Map(), conditional: [], convenience: [] };
      for (const binding of policy.bindings) {
        if (!roleGrants(binding.role, permission)) continue;
        if (binding.condition) {
          index.conditional.push({
            members: new Set(binding.members),
            binding,
            compiled: compileCondition(binding.condition),
          });
        } else
          for (const member of binding.members) {
            if (!index.unconditional.has(member)) index.unconditional.set(member, binding);
            const convenience = CONVENIENCE_MEMBER.exec(member);
            if (convenience?.[1] && convenience[2])
              index.convenience.push({
                member,
                binding,
                basicRole: `roles/${convenience[1].toLowerCase()}`,
                project: `projects/${convenience[2]}`,
              });
          }
      }
      byPermission.set(permission, index);
    }
    return index;
  };

  /** The candidate that holds `role` on `project` unconditionally, where a convenience member refers to it. */
  const basicRoleHolder = (list: readonly Candidate[], role: string, project: string): Candidate | undefined => {
    const members = new Set(
      (policies.get(project)?.bindings ?? []).filter((b) => b.role === role && !b.condition).flatMap((b) => b.members),
    );
    return list.find((candidate) => members.has(candidate.member));
  };

  const decide = (principal: Principal, permission: string, resource: string): Decision => {
    const list = candidates(principal);
    for (const holder of ancestors(resource)) {
      const index = permissionIndex(holder, permission);
      if (!index) continue;
      for (const candidate of list) {
        const binding = index.unconditional.get(candidate.member);
        if (binding) {
          return {
            allowed: true,
            principal: list[0]!.member,
            permission,
            resource,
            grant: { resource: holder, role: binding.role, member: candidate.member, via: candidate.via },
          };
        }
      }
      for (const grant of index.conditional) {
        const candidate = list.find((c) => grant.members.has(c.member));
        if (!candidate) continue;
        const { type, service } = resourceTypeOf(resource);
        const result = evaluateCompiled(grant.compiled, {
          requestTimeMs: clock.now(),
          resourceName: resource,
          resourceType: type,
          resourceService: service,
        });
        if (result === true) {
          return {
            allowed: true,
            principal: list[0]!.member,
            permission,
            resource,
            grant: {
              resource: holder,
              role: grant.binding.role,
              member: candidate.member,
              via: candidate.via,
              ...(grant.binding.condition ? { condition: grant.binding.condition } : {}),
            },
          };
        }
      }
      for (const grant of index.convenience) {
        const candidate = basicRoleHolder(list, grant.basicRole, grant.project);
        if (!candidate) continue;
        return {
          allowed: true,
          principal: list[0]!.member,
          permission,
          resource,
          grant: {
            resource: holder,
            role: grant.binding.role,
            member: grant.member,
            via: `${candidate.via === "direct" ? candidate.member : candidate.via} holds ${grant.basicRole} on ${grant.project}`,
          },
        };
      }
    }
    return { allowed: false, principal: list[0]!.member, permission, resource };
  };

  const rebuildGroups = () => {
    groupIndex = indexGroups(groups.values());
    candidateCache.clear();
  };

  return {
    setPolicy(resource, policy) {
      indexes.delete(resource);
      if (policy) policies.set(resource, policy);
      else policies.delete(resource);
    },
    setGroup(email, group) {
      if (group) groups.set(email.toLowerCase(), group);
      else groups.delete(email.toLowerCase());
      rebuildGroups();
    },
    reset() {
      policies.clear();
      indexes.clear();
      groups.clear();
      rebuildGroups();
    },
    decide,
    explain: (principal, permission, resource) =>
      explainDecision({
        principal,
        permission,
        resource,
        candidates: candidates(principal),
        ancestors: ancestors(resource),
        policies,
        clockMs: clock.now(),
        decision: decide(principal, permission, resource),
      }),
    whoCan: (permission, resource) => listHolders(permission, ancestors(resource), policies, groups),
    testPermissions: (principal, permissions, resource) =>
      permissions.filter((p) => decide(principal, p, resource).allowed),
    policyOf: (resource) => policies.get(resource),
    groups: () => [...groups.values()],
  };
}
