// Small shared pieces of the checks: finding construction and gcloud command spelling.
import type { Check, Finding } from "../model.js";
import type { AnalyzedService } from "../model.js";

export function finding(
  check: Check,
  resource: string,
  evidence: string,
  fix: string[],
  overrides: Partial<Finding> = {},
): Finding {
  return {
    ruleId: check.id,
    severity: check.severity,
    title: check.title,
    resource,
    evidence,
    why: check.why,
    fix,
    ...overrides,
  };
}

export const region = (service: AnalyzedService) => `--region=${service.region}`;
export const isPublicMember = (member: string) => member === "allUsers" || member === "allAuthenticatedUsers";
