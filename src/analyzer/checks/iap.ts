// IAP on Cloud Run: behind a load balancer, IAP protects only the load balancer, so the run.app URL must be
// closed by ingress; and the IAP service agent must be able to invoke the service.
import type { Check } from "../model.js";
import { finding, region } from "./helpers.js";

export const iapAgentCannotInvoke: Check = {
  id: "RG-IAP-002",
  severity: "high",
  title: "IAP is enabled but the IAP service agent lacks run.invoker",
  why: "IAP calls the service as service-PROJECT_NUMBER@gcp-sa-iap.iam.gserviceaccount.com; without roles/run.invoker every request fails with 403 after sign-in.",
  run(input) {
    if (!input.projectNumber) return [];
    const agent = `serviceAccount:service-${input.projectNumber}@gcp-sa-iap.iam.gserviceaccount.com`;
    return input.services
      .filter((s) => s.iapEnabled)
      .filter(
        (s) =>
          !(input.policies.get(s.resource)?.bindings ?? []).some(
            (b) => b.role === "roles/run.invoker" && b.members.includes(agent),
          ),
      )
      .map((s) =>
        finding(this, s.resource, `IAP enabled; ${agent} holds no roles/run.invoker on the service`, [
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
          .filter((s) => backend.services.includes(s.name) && s.ingress === "all")
          .map((s) =>
            finding(this, s.resource, `backend service ${backend.name} has IAP enabled; ${s.name} has ingress all`, [
              `gcloud run services update ${s.name} ${region(s)} --ingress=internal-and-cloud-load-balancing`,
            ]),
          ),
      );
  },
};
