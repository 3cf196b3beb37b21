// IAP on Cloud Run: behind a load balancer, IAP protects only the load balancer, so the run.app URL must be
// closed by ingress (IAP directly on the service protects run.app itself); the IAP service agent must be able to
// invoke the service either way; and IAP cannot be on both the load balancer and the service.
import type { AnalysisInput, AnalyzedService, Check } from "../model.js";
import { finding, region } from "./helpers.js";

/** Services IAP stands in front of: IAP on the service itself, or on a load balancer backend pointing at it. */
function behindIap(input: AnalysisInput): AnalyzedService[] {
  const viaBackend = new Set((input.iapBackends ?? []).filter((b) => b.iapEnabled).flatMap((b) => b.services));
  return input.services.filter((s) => s.iapEnabled || viaBackend.has(s.name));
}

export const iapOnBothLayers: Check = {
  id: "RG-IAP-003",
  severity: "medium",
  title: "IAP is enabled both on the service and on a load balancer in front of it",
  why: "Google Cloud does not allow IAP on both the Cloud Run service and the load balancer; users would be asked to sign in twice, for two different OAuth clients.",
  run(input) {
    return (input.iapBackends ?? [])
      .filter((backend) => backend.iapEnabled)
      .flatMap((backend) =>
        input.services
          .filter((s) => backend.services.includes(s.name) && s.iapEnabled)
          .map((s) =>
            finding(this, s.resource, `IAP on ${s.name} and on backend service ${backend.name}`, [
              `gcloud beta run services update ${s.name} ${region(s)} --no-iap`,
              `or: gcloud compute backend-services update ${backend.name} --global --iap=disabled`,
            ]),
          ),
      );
  },
};

export const iapAgentCannotInvoke: Check = {
  id: "RG-IAP-002",
  severity: "high",
  title: "IAP is enabled but the IAP service agent lacks run.invoker",
  why: "IAP calls the service as service-PROJECT_NUMBER@gcp-sa-iap.iam.gserviceaccount.com; without roles/run.invoker every request fails with 403 after sign-in.",
  run(input) {
    if (!input.projectNumber) return [];
    const agent = `serviceAccount:service-${input.projectNumber}@gcp-sa-iap.iam.gserviceaccount.com`;
    return behindIap(input)
      .filter(
        (s) =>
          !(input.policies.get(s.resource)?.bindings ?? []).some(
            (b) => b.role === "roles/run.invoker" && b.members.includes(agent),
          ),
      )
      .map((s) =>
        finding(this, s.resource, `IAP in front of ${s.name}; ${agent} holds no roles/run.invoker on it`, [
          `gcloud run services add-iam-policy-binding ${s.name} ${region(s)} --member=${agent} --role=roles/run.invoker`,
        ]),
      );
  },
};

export const iapBypassedByRunApp: Check = {
  id: "RG-IAP-001",
  severity: "high",
  title: "IAP on the load balancer, but the service is still reachable on its run.app URL",
  why: "IAP only protects requests that go through the load balancer; with ingress `all`, anyone can skip IAP by calling the run.app URL directly.",
  run(input) {
    return (input.iapBackends ?? [])
      .filter((backend) => backend.iapEnabled)
      .flatMap((backend) =>
        input.services
          .filter((s) => backend.services.includes(s.name) && s.ingress === "all" && !s.iapEnabled)
          .map((s) =>
            finding(this, s.resource, `backend service ${backend.name} has IAP enabled; ${s.name} has ingress all`, [
              `gcloud run services update ${s.name} ${region(s)} --ingress=internal-and-cloud-load-balancing`,
            ]),
          ),
      );
  },
};
