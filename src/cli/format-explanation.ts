// Human-readable rendering of an IAM explanation.
import type { Explanation } from "../iam/explain.js";

export function formatExplanation(e: Explanation): string {
  const lines = [
    `${e.allowed ? "ALLOWED" : "DENIED"}: ${e.principal} ${e.allowed ? "has" : "lacks"} ${e.permission} on ${e.resource}`,
  ];
  if (e.grant) {
    lines.push(`  granted by ${e.grant.role} on ${e.grant.resource} to ${e.grant.member} (${e.grant.via})`);
  }
  lines.push("  identities considered:");
  for (const identity of e.identities) lines.push(`    ${identity.member}  [${identity.via}]`);
  for (const policy of e.policies) {
    lines.push(`  policy of ${policy.resource}:${policy.bindings.length === 0 ? " (no bindings)" : ""}`);
    for (const b of policy.bindings) {
      const match = b.matchedMember ? `matches ${b.matchedMember} [${b.via}]` : "no member matches";
      const perm = b.roleHasPermission ? `includes ${e.permission}` : `does not include ${e.permission}`;
      const cond = b.condition
        ? `; condition ${JSON.stringify(b.condition.expression)} → ${String(b.condition.result)}`
        : "";
      lines.push(`    ${b.role}: ${perm}; ${match}${cond}`);
    }
  }
  return lines.join("\n");
}
