// Validation and response shaping of google.iam.v1.Policy.
import { invalidArgument } from "../core/errors.js";
import { canonicalMember } from "./members.js";
import { isKnownRole } from "./roles.js";
import { validateCondition } from "./conditions.js";
import type { Binding, Policy } from "./types.js";

const MAX_MEMBERS = 1500;

function validateBinding(binding: unknown, conditionsAllowed: boolean, index: number): Binding {
  const b = binding as Partial<Binding> | null;
  if (typeof b !== "object" || b === null || typeof b.role !== "string") {
    throw invalidArgument("Invalid policy binding: each binding needs a role and members.");
  }
  if (!isKnownRole(b.role)) throw invalidArgument(`Role ${b.role} is not supported for this resource.`);
  if (!Array.isArray(b.members) || b.members.length === 0) {
    throw invalidArgument(`Policy binding for role ${b.role} must have at least one member.`);
  }
  const members = [...new Set(b.members.map((m) => canonicalMember(m as string)))];
  if (b.condition === undefined || b.condition === null) return { role: b.role, members };
  if (!conditionsAllowed) {
    throw invalidArgument("Conditions are only supported in policy version 3; set the policy's version to 3.");
  }
  return { role: b.role, members, condition: validateCondition(b.condition, `policy.bindings[${index}].condition`) };
}

/** Validates a policy sent to setIamPolicy and returns it in canonical form (without etag). */
export function validatePolicy(policy: Policy): Policy {
  const version = policy.version ?? 1;
  if (![0, 1, 3].includes(version))
    throw invalidArgument(`Invalid policy version: ${String(policy.version)}. Valid values are 0, 1, and 3.`);
  if (policy.bindings !== undefined && !Array.isArray(policy.bindings)) {
    throw invalidArgument("Invalid value at 'policy.bindings': expected a list.");
  }
  const bindings = (policy.bindings ?? []).map((b, i) => validateBinding(b, version === 3, i));
  const count = bindings.reduce((n, b) => n + b.members.length, 0);
  if (count > MAX_MEMBERS)
    throw invalidArgument(
      `The number of members in the policy (${count}) is larger than the maximum allowed size ${MAX_MEMBERS}.`,
    );
  const hasConditions = bindings.some((b) => b.condition);
  return {
    version: hasConditions ? 3 : 1,
    ...(bindings.length > 0 ? { bindings } : {}),
    ...(policy.auditConfigs ? { auditConfigs: policy.auditConfigs } : {}),
  };
}

export function policyForResponse(policy: Policy, requestedVersion: number): Policy {
  const hasConditions = policy.bindings?.some((b) => b.condition) ?? false;
  if (hasConditions && requestedVersion < 3 && requestedVersion !== 0) {
    throw invalidArgument("The policy contains conditional role bindings; request policy version 3 to read it.");
  }
  return {
    version: hasConditions ? 3 : 1,
    ...(policy.bindings && policy.bindings.length > 0 ? { bindings: policy.bindings } : {}),
    ...(policy.auditConfigs ? { auditConfigs: policy.auditConfigs } : {}),
    ...(policy.etag ? { etag: policy.etag } : {}),
  };
}

/** Adds a member to a role's unconditional binding, creating the binding if needed. */
export function addBinding(policy: Policy, role: string, member: string): Policy {
  const bindings = [...(policy.bindings ?? [])];
  const index = bindings.findIndex((b) => b.role === role && !b.condition);
  const existing = bindings[index];
  if (existing) {
    if (!existing.members.includes(member)) bindings[index] = { ...existing, members: [...existing.members, member] };
  } else bindings.push({ role, members: [member] });
  return { ...policy, bindings };
}

export function removeMember(policy: Policy, role: string, member: string): Policy {
  const bindings = (policy.bindings ?? [])
    .map((b) => (b.role === role && !b.condition ? { ...b, members: b.members.filter((m) => m !== member) } : b))
    .filter((b) => b.members.length > 0);
  return { ...policy, bindings };
}
