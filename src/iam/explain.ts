// Explanations: every binding considered on the resource and its ancestors, whether its role carries the
// permission, whether and how the principal matched it, and what each condition evaluated to.
import { compileCondition, evaluateCompiled, resourceTypeOf } from "./conditions.js";
import { roleGrants } from "./roles.js";
import type { Candidate } from "./candidates.js";
import type { Decision, Grant, Group, Policy, Principal } from "./types.js";

export interface ConsideredBinding {
  role: string;
  members: string[];
  roleHasPermission: boolean;
  matchedMember?: string;
  via?: string;
  condition?: { expression: string; title?: string; result: boolean | string };
}

export interface Explanation {
  allowed: boolean;
  principal: string;
  permission: string;
  resource: string;
  /** The member strings the principal matches, with how (groups, domain, public). */
  identities: Candidate[];
  policies: Array<{ resource: string; bindings: ConsideredBinding[] }>;
  grant?: Grant;
}

export interface ExplainInput {
  principal: Principal;
  permission: string;
  resource: string;
  candidates: Candidate[];
  ancestors: string[];
  policies: ReadonlyMap<string, Policy>;
  clockMs: number;
  decision: Decision;
}

export function explainDecision(input: ExplainInput): Explanation {
  const { type, service } = resourceTypeOf(input.resource);
  const considered = input.ancestors.map((holder) => ({
    resource: holder,
    bindings: (input.policies.get(holder)?.bindings ?? []).map((binding): ConsideredBinding => {
      const match = input.candidates.find((c) => binding.members.includes(c.member));
      const result = binding.condition
        ? evaluateCompiled(compileCondition(binding.condition), {
            requestTimeMs: input.clockMs,
            resourceName: input.resource,
            resourceType: type,
            resourceService: service,
          })
        : undefined;
      return {
        role: binding.role,
        members: binding.members,
        roleHasPermission: roleGrants(binding.role, input.permission),
        ...(match ? { matchedMember: match.member, via: match.via } : {}),
        ...(binding.condition
          ? {
              condition: {
                expression: binding.condition.expression,
                ...(binding.condition.title ? { title: binding.condition.title } : {}),
                result: result instanceof Error ? `error: ${result.message}` : result === true,
              },
            }
          : {}),
      };
    }),
  }));
  return {
    allowed: input.decision.allowed,
    principal: input.decision.principal,
    permission: input.permission,
    resource: input.resource,
    identities: input.candidates,
    policies: considered,
    ...(input.decision.grant ? { grant: input.decision.grant } : {}),
  };
}

export interface Holder {
  member: string;
  grant: Grant;
}

/** Every member holding the permission, with group members expanded (and the group named in `via`). */
export function listHolders(
  permission: string,
  ancestors: string[],
  policies: ReadonlyMap<string, Policy>,
  groups: ReadonlyMap<string, Group>,
): Holder[] {
  const out: Holder[] = [];
  const expand = (member: string, grant: Grant, chain: string, seen: Set<string>) => {
    out.push({ member, grant: { ...grant, via: chain || "direct" } });
    if (!member.startsWith("group:") || seen.has(member)) return;
    seen.add(member);
    for (const inner of groups.get(member.slice(6))?.members ?? []) {
      expand(inner, grant, chain ? `${chain} -> ${member}` : member, seen);
    }
  };
  for (const holder of ancestors) {
    for (const binding of policies.get(holder)?.bindings ?? []) {
      if (!roleGrants(binding.role, permission)) continue;
      for (const member of binding.members) {
        const grant: Grant = {
          resource: holder,
          role: binding.role,
          member,
          via: "direct",
          ...(binding.condition ? { condition: binding.condition } : {}),
        };
        expand(member, grant, "", new Set());
      }
    }
  }
  return out;
}
