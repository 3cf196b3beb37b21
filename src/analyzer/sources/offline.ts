// The analyzer's input from a real Google Cloud project's exported files: `gcloud run services describe
// --format=export` YAML, `get-iam-policy --format=json` of services and the project, `gcloud secrets list
// --format=json`, and a Terraform plan (`terraform show -json`).
import { invalidArgument } from "../../core/errors.js";
import type { Policy } from "../../iam/types.js";
import { LOCATION_LABEL, parseServiceExports } from "../../run/knative-export.js";
import type { AnalysisInput } from "../model.js";
import { analyzedService } from "./from-service.js";
import { terraformInput } from "./terraform.js";

export interface OfflineFiles {
  projectId: string;
  projectNumber?: string;
  serviceExports: string[];
  /** Service name → its get-iam-policy JSON. */
  servicePolicies: Record<string, string>;
  projectPolicy?: string;
  secretsList?: string;
  terraformPlan?: string;
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw invalidArgument(`${what} is not valid JSON.`);
  }
}

export function offlineInput(files: OfflineFiles): AnalysisInput {
  const defaultServiceAccount = files.projectNumber
    ? `${files.projectNumber}-compute@developer.gserviceaccount.com`
    : "PROJECT_NUMBER-compute@developer.gserviceaccount.com";
  const input: AnalysisInput = files.terraformPlan
    ? terraformInput(parseJson(files.terraformPlan, "The Terraform plan"), files.projectId, defaultServiceAccount)
    : { projectId: files.projectId, services: [], policies: new Map(), serviceAccounts: [], secrets: [], groups: [] };
  if (files.projectNumber) input.projectNumber = files.projectNumber;
  for (const [index, text] of files.serviceExports.entries()) {
    for (const service of parseServiceExports(text, `The service export #${index + 1}`)) {
      const labels = service.metadata.labels ?? {};
      input.services.push(
        analyzedService({
          name: service.metadata.name,
          region: labels[LOCATION_LABEL] ?? "us-central1",
          projectId: files.projectId,
          serviceAnnotations: service.metadata.annotations ?? {},
          labels,
          template: service.spec.template,
          defaultServiceAccount,
        }),
      );
    }
  }
  for (const [name, text] of Object.entries(files.servicePolicies)) {
    const service = input.services.find((s) => s.name === name);
    const resource = service?.resource ?? `projects/${files.projectId}/locations/us-central1/services/${name}`;
    input.policies.set(resource, parseJson<Policy>(text, `The policy of ${name}`));
  }
  if (files.projectPolicy)
    input.policies.set(`projects/${files.projectId}`, parseJson<Policy>(files.projectPolicy, "The project policy"));
  if (files.secretsList) {
    const secrets = parseJson<Array<{ name: string }>>(files.secretsList, "The secrets list");
    input.secrets.push(...secrets.map((s) => s.name));
  }
  return input;
}
