// IAP on Cloud Run: the IAP service agent must be able to invoke the service.
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
