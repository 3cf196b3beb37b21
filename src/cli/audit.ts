// `runguard audit`: find the seed's mistakes (and more) in runguard's live state or in files exported from a
// real project; table, JSON or SARIF; non-zero exit when findings at or above --fail-on exist.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { analyze } from "../analyzer/analyze.js";
import { liveInput } from "../analyzer/sources/live.js";
import { offlineInput } from "../analyzer/sources/offline.js";
import { SEVERITIES, type Severity } from "../analyzer/model.js";
import { toSarif } from "../analyzer/render/sarif.js";
import { toTable } from "../analyzer/render/table.js";
import { dataDirOf, openLocal } from "./local.js";

interface AuditOptions {
  format: "table" | "json" | "sarif";
  failOn?: Severity;
  project?: string;
  projectNumber?: string;
  export: string[];
  servicePolicy: string[];
  projectPolicy?: string;
  secrets?: string;
  terraform?: string;
  since?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerAudit(program: Command): void {
  program
    .command("audit")
    .description("find misconfigurations in runguard's state, or in exported files of a real project")
    .option("--format <format>", "table, json or sarif", "table")
    .option(
      "--fail-on <severity>",
      "exit 2 when a finding of this severity or worse exists (low, medium, high, critical)",
    )
    .option("--project <id>", "the project of the offline files")
    .option("--project-number <number>", "the project's number (offline)")
    .option("--export <file>", "a `gcloud run services describe --format=export` YAML (repeatable)", collect, [])
    .option("--service-policy <name=file>", "a service's `get-iam-policy --format=json` (repeatable)", collect, [])
    .option("--project-policy <file>", "`gcloud projects get-iam-policy --format=json`")
    .option("--secrets <file>", "`gcloud secrets list --format=json`")
    .option("--terraform <file>", "a Terraform plan in JSON (`terraform show -json`)")
    .option("--since <timestamp>", "live: the start of the window for unused-grant analysis (RFC 3339)")
    .action(async (options: AuditOptions, command: Command) => {
      const offline =
        options.export.length > 0 || options.terraform || options.projectPolicy || options.servicePolicy.length > 0;
      const input = offline
        ? offlineInput({
            projectId: options.project ?? "PROJECT_ID",
            ...(options.projectNumber ? { projectNumber: options.projectNumber } : {}),
            serviceExports: options.export.map((f) => readFileSync(f, "utf8")),
            servicePolicies: Object.fromEntries(
              options.servicePolicy.map((pair) => {
                const [name, file] = pair.split("=");
                return [name ?? "", readFileSync(file ?? "", "utf8")];
              }),
            ),
            ...(options.projectPolicy ? { projectPolicy: readFileSync(options.projectPolicy, "utf8") } : {}),
            ...(options.secrets ? { secretsList: readFileSync(options.secrets, "utf8") } : {}),
            ...(options.terraform ? { terraformPlan: readFileSync(options.terraform, "utf8") } : {}),
          })
        : await (async () => {
            const session = await openLocal(dataDirOf(command));
            try {
              return await liveInput(session.store, options.project ?? session.endpoints.projectId, options.since);
            } finally {
              await session.close();
            }
          })();
      const findings = analyze(input);
      if (options.format === "json") console.log(JSON.stringify({ findings }, null, 2));
      else if (options.format === "sarif") console.log(JSON.stringify(toSarif(findings, "0.1.0"), null, 2));
      else console.log(toTable(findings, process.stdout.isTTY === true));
      if (options.failOn) {
        const threshold = SEVERITIES.indexOf(options.failOn);
        if (threshold < 0) throw new Error(`--fail-on takes one of ${SEVERITIES.join(", ")}`);
        if (findings.some((f) => SEVERITIES.indexOf(f.severity) >= threshold)) process.exitCode = 2;
      }
    });
}
