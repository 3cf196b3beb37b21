// Runs every check over one input and orders the findings, most severe first.
import { ALL_CHECKS } from "./checks/index.js";
import { SEVERITIES, type AnalysisInput, type CheckContext, type Finding } from "./model.js";

function contextOf(input: AnalysisInput): CheckContext {
  const byMember = new Map<string, string[]>();
  for (const binding of input.policies.get(`projects/${input.projectId}`)?.bindings ?? []) {
    if (binding.condition) continue;
    for (const member of binding.members) byMember.set(member, [...(byMember.get(member) ?? []), binding.role]);
  }
  return {
    projectRoles: (member) => byMember.get(member) ?? [],
    ...(input.projectNumber
      ? { computeServiceAccount: `${input.projectNumber}-compute@developer.gserviceaccount.com` }
      : {}),
  };
}

export function analyze(input: AnalysisInput): Finding[] {
  const context = contextOf(input);
  const findings = ALL_CHECKS.flatMap((check) => check.run(input, context));
  return findings.sort(
    (a, b) =>
      SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) ||
      a.ruleId.localeCompare(b.ruleId) ||
      a.resource.localeCompare(b.resource),
  );
}
