// SARIF 2.1.0 for code-scanning tools: one rule per check, one result per finding. Cloud resources are not
// files, so each result's location is a logical location named by the resource, and the gcloud fix commands
// travel in the result's properties (SARIF fixes describe file edits).
import { ALL_CHECKS } from "../checks/index.js";
import type { Finding, Severity } from "../model.js";

const LEVEL: Record<Severity, "error" | "warning" | "note"> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
};
const SECURITY_SEVERITY: Record<Severity, string> = { critical: "9.5", high: "8.0", medium: "5.5", low: "3.0" };

export function toSarif(findings: readonly Finding[], version: string) {
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "runguard",
            version,
            informationUri: "https://github.com/runguard/runguard",
            rules: ALL_CHECKS.map((check) => ({
              id: check.id,
              name: check.title
                .replace(/[^A-Za-z0-9]+/g, " ")
                .trim()
                .replace(/ (\w)/g, (_, c: string) => c.toUpperCase())
                .replace(/^\w/, (c) => c.toUpperCase()),
              shortDescription: { text: check.title },
              fullDescription: { text: check.why },
              defaultConfiguration: { level: LEVEL[check.severity] },
              properties: { "security-severity": SECURITY_SEVERITY[check.severity], tags: ["security", "cloud-run"] },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.ruleId,
          ruleIndex: ALL_CHECKS.findIndex((c) => c.id === f.ruleId),
          level: LEVEL[f.severity],
          message: { text: `${f.title}: ${f.evidence}. ${f.why}` },
          locations: [{ logicalLocations: [{ fullyQualifiedName: f.resource, kind: "resource" }] }],
          properties: { severity: f.severity, fix: f.fix },
        })),
      },
    ],
  };
}
