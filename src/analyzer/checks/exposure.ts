// Exposure: public services with no reason to be public (only other services call them, or nothing says they
// are meant to be), and internal ingress mistaken for authentication.
import type { AnalysisInput, AnalyzedService, Check } from "../model.js";
import { finding, isPublicMember, region } from "./helpers.js";

export function publicMembers(input: AnalysisInput, service: AnalyzedService): string[] {
  const policy = input.policies.get(service.resource);
  return (policy?.bindings ?? [])
    .filter((b) => b.role === "roles/run.invoker" || b.role === "roles/run.servicesInvoker")
    .flatMap((b) => b.members.filter(isPublicMember));
}

function isPublic(input: AnalysisInput, service: AnalyzedService): string | undefined {
  if (service.invokerIamDisabled) return "the invoker IAM check is disabled (run.googleapis.com/invoker-iam-disabled)";
  const members = publicMembers(input, service);
  return members.length > 0 ? `roles/run.invoker is granted to ${members.join(", ")}` : undefined;
}

const lockDown = (s: AnalyzedService, input: AnalysisInput) => [
  ...publicMembers(input, s).map(
    (m) =>
      `gcloud run services remove-iam-policy-binding ${s.name} ${region(s)} --member=${m} --role=roles/run.invoker`,
  ),
  ...(s.invokerIamDisabled ? [`gcloud run services update ${s.name} ${region(s)} --invoker-iam-check`] : []),
  `gcloud run services add-iam-policy-binding ${s.name} ${region(s)} --member=serviceAccount:CALLER_SA --role=roles/run.invoker`,
];

export const internalIngressWithoutIam: Check = {
  id: "RG-NET-001",
  severity: "high",
  title: "Internal ingress without IAM authentication",
  why: "--ingress=internal restricts where requests come from, not who sends them: any workload in the VPC can call this service unauthenticated.",
  run(input) {
    return input.services.flatMap((s) => {
      const reason = s.ingress !== "all" ? isPublic(input, s) : undefined;
      return reason ? [finding(this, s.resource, `ingress ${s.ingress}; ${reason}`, lockDown(s, input))] : [];
    });
  },
};

/** Every caller the request logs show is a service account (a service only other workloads call). */
function calledOnlyByServices(input: AnalysisInput, service: AnalyzedService): Set<string> | undefined {
  const callers = input.callers?.get(service.resource);
  if (!callers || callers.size === 0) return undefined;
  return [...callers].every((c) => c.startsWith("serviceAccount:")) ? callers : undefined;
}

export const publicCalledOnlyByServices: Check = {
  id: "RG-RUN-003",
  severity: "medium",
  title: "Public service that is only called by other services",
  why: "A service only other workloads call has no reason to accept unauthenticated requests from the internet.",
  run(input) {
    return input.services.flatMap((s) => {
      const reason = s.ingress === "all" ? isPublic(input, s) : undefined;
      const callers = reason ? calledOnlyByServices(input, s) : undefined;
      return reason && callers
        ? [
            finding(
              this,
              s.resource,
              `${reason}; every caller seen is a service account (${[...callers].join(", ")})`,
              lockDown(s, input),
            ),
          ]
        : [];
    });
  },
};

/** The label that says a service is meant to be public: `public=true`, or a reason such as `public=website`. */
export const PUBLIC_LABEL = "public";
const markedPublic = (s: AnalyzedService) => (s.labels[PUBLIC_LABEL] ?? "false") !== "false";

export const publicNotMarkedPublic: Check = {
  id: "RG-RUN-004",
  severity: "low",
  title: "Public service with no sign it is meant to be public",
  why: "Services made public while testing (--allow-unauthenticated) are easily forgotten; unless this is a website, an open API or a webhook, anyone who finds the URL can call it. Label it public=true (or public=REASON) if it is meant to be.",
  run(input) {
    return input.services.flatMap((s) => {
      const reason = s.ingress === "all" ? isPublic(input, s) : undefined;
      // RG-RUN-003 already says more about a service only other services call.
      if (!reason || markedPublic(s) || calledOnlyByServices(input, s)) return [];
      return [
        finding(this, s.resource, `${reason}; no \`${PUBLIC_LABEL}\` label says it is meant to be public`, [
          "# if it should not be public:",
          ...lockDown(s, input),
          "# if it is meant to be public, say so (this silences the finding):",
          `gcloud run services update ${s.name} ${region(s)} --update-labels=${PUBLIC_LABEL}=true`,
        ]),
      ];
    });
  },
};
