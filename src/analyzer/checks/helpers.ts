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

/**
 * The gcloud command that removes `member`'s `role` from the policy of `resource`, spelled for the kind of
 * resource the grant is on (a service's grant is not removed with `gcloud projects …`).
 */
export function removeBindingCommand(resource: string, member: string, role: string): string {
  const binding = `--member=${member} --role=${role}`;
  const parts = resource.split("/");
  const [, project, kind, name, sub, subName] = parts;
  const inProject = `--project=${project}`;
  if (parts.length === 2) return `gcloud projects remove-iam-policy-binding ${project} ${binding}`;
  if (kind === "locations" && sub === "services" && parts.length === 6)
    return `gcloud run services remove-iam-policy-binding ${subName} --region=${name} ${inProject} ${binding}`;
  if (kind === "secrets" && parts.length === 4)
    return `gcloud secrets remove-iam-policy-binding ${name} ${inProject} ${binding}`;
  if (kind === "serviceAccounts" && parts.length === 4)
    return `gcloud iam service-accounts remove-iam-policy-binding ${name} ${inProject} ${binding}`;
  if (kind === "iap_web" && parts.length === 3)
    return `gcloud iap web remove-iam-policy-binding ${inProject} ${binding}`;
  const iap = /^projects\/[^/]+\/iap_web\/(compute|cloud_run-([^/]+))\/services\/([^/]+)$/.exec(resource);
  if (iap) {
    const [, type, region, service] = iap;
    return type === "compute"
      ? `gcloud iap web remove-iam-policy-binding --resource-type=backend-services --service=${service} ${inProject} ${binding}`
      : `gcloud beta iap web remove-iam-policy-binding --resource-type=cloud-run --service=${service} --region=${region} ${inProject} ${binding}`;
  }
  return `# remove ${member} from ${role} in the IAM policy of ${resource}`;
}
