// A Knative Service (runguard's stored form or a `gcloud run services describe --format=export` file) as the
// analyzer sees it.
import type { Ingress, RevisionTemplate } from "../../run/types.js";
import { secretReferences } from "../../run/revision-secrets.js";
import type { AnalyzedService } from "../model.js";

export interface ServiceShape {
  name: string;
  region: string;
  projectId: string;
  serviceAnnotations: Record<string, string>;
  labels: Record<string, string>;
  template: RevisionTemplate;
  defaultServiceAccount: string;
}

export function analyzedService(shape: ServiceShape): AnalyzedService {
  const annotations = shape.serviceAnnotations;
  const container = shape.template.spec.containers[0];
  const egress = shape.template.metadata?.annotations?.["run.googleapis.com/vpc-access-egress"];
  return {
    name: shape.name,
    region: shape.region,
    resource: `projects/${shape.projectId}/locations/${shape.region}/services/${shape.name}`,
    serviceAccount: shape.template.spec.serviceAccountName || shape.defaultServiceAccount,
    ingress: (annotations["run.googleapis.com/ingress"] as Ingress | undefined) ?? "all",
    invokerIamDisabled: /^true$/i.test(annotations["run.googleapis.com/invoker-iam-disabled"] ?? ""),
    iapEnabled: /^true$/i.test(annotations["run.googleapis.com/iap-enabled"] ?? ""),
    env: (container?.env ?? [])
      .filter((e) => e.value !== undefined)
      .map((e) => ({ name: e.name, value: e.value ?? "" })),
    secrets: secretReferences(shape.template),
    labels: shape.labels,
    ...(egress ? { vpcEgress: egress } : {}),
  };
}
