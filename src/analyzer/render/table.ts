// The readable report: one block per finding, coloured by severity on a terminal.
import type { Finding, Severity } from "../model.js";

const COLOURS: Record<Severity, string> = {
  critical: "\x1b[1;31m",
  high: "\x1b[31m",
  medium: "\x1b[33m",
  low: "\x1b[36m",
};

export function toTable(findings: readonly Finding[], colour: boolean): string {
  if (findings.length === 0) return "No findings.";
  const paint = (severity: Severity, text: string) => (colour ? `${COLOURS[severity]}${text}\x1b[0m` : text);
  const blocks = findings.map((f) =>
    [
      `${paint(f.severity, f.severity.toUpperCase().padEnd(8))} ${f.ruleId}  ${f.title}`,
      `  resource: ${f.resource}`,
      `  evidence: ${f.evidence}`,
      `  why:      ${f.why}`,
      ...f.fix.map((line, i) => `  ${i === 0 ? "fix:     " : "         "} ${line}`),
    ].join("\n"),
  );
  const counts = (["critical", "high", "medium", "low"] as const)
    .map((s) => `${findings.filter((f) => f.severity === s).length} ${s}`)
    .join(", ");
  return `${blocks.join("\n\n")}\n\n${findings.length} findings (${counts})`;
}
