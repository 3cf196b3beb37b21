// What the analyzer reasons about, whatever the source (runguard's live state, files exported from a real
// project, a Terraform plan): services with their settings, IAM policies by resource, accounts and keys,
// secrets, and the access that was actually exercised.
import type { Ingress } from "../run/types.js";
import type { Group, Policy } from "../iam/types.js";
import type { SecretReference } from "../secrets/references.js";

export type Severity = "critical" | "high" | "medium" | "low";
export const SEVERITIES: readonly Severity[] = ["low", "medium", "high", "critical"];

export interface AnalyzedService {
  name: string;
  region: string;
  /** projects/P/locations/R/services/S */
  resource: string;
  serviceAccount: string;
  ingress: Ingress;
  invokerIamDisabled: boolean;
  iapEnabled: boolean;
  env: Array<{ name: string; value: string }>;
  secrets: SecretReference[];
  labels: Record<string, string>;
  vpcEgress?: string;
}

export interface ExercisedAccess {
  principal: string;
  permission: string;
  resource: string;
}

export interface AnalysisInput {
  projectId: string;
  projectNumber?: string;
  services: AnalyzedService[];
  /** IAM resource name → policy. */
  policies: Map<string, Policy>;
  serviceAccounts: Array<{ email: string; userManagedKeys: number }>;
  secrets: string[];
  groups: Group[];
  /** Present when audit and request logs were available: which grants were used. */
  exercised?: ExercisedAccess[];
  /** Callers seen per service (principal member strings), from request logs. */
  callers?: Map<string, Set<string>>;
  /** Load-balancer backend services with IAP, and the Cloud Run services their serverless NEGs point at. */
  iapBackends?: Array<{ name: string; iapEnabled: boolean; services: string[] }>;
}

export interface Finding {
  ruleId: string;
  severity: Severity;
  title: string;
  resource: string;
  /** The setting or binding that shows the problem (never a secret's value). */
  evidence: string;
  why: string;
  fix: string[];
}

export interface Check {
  id: string;
  severity: Severity;
  title: string;
  why: string;
  run(input: AnalysisInput, context: CheckContext): Finding[];
}

export interface CheckContext {
  /** Does `member` hold `role` directly on the project? */
  projectRoles(member: string): string[];
  computeServiceAccount?: string;
}
