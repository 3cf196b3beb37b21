// The analyzer's input from runguard's own state: services, policies, accounts and keys, secrets, groups,
// and, from the audit and request logs, which access was exercised and who called each service.
import type { Store } from "../../store/store.js";
import type { StoredService } from "../../run/types.js";
import type { StoredPolicy } from "../../policies/policy-ops.js";
import type { ServiceAccount } from "../../accounts/service-accounts.js";
import type { ServiceAccountKey } from "../../accounts/service-account-keys.js";
import type { StoredSecret } from "../../secrets/types.js";
import type { Group } from "../../iam/types.js";
import type { Project } from "../../accounts/projects.js";
import type { AnalysisInput, ExercisedAccess } from "../model.js";
import type { StoredBackendService, StoredNeg } from "../../load-balancer/types.js";
import { analyzedService } from "./from-service.js";

interface AuditPayload {
  authenticationInfo?: { principalEmail?: string };
  authorizationInfo?: Array<{ resource: string; permission: string; granted: boolean }>;
}

const memberOfEmail = (email: string) =>
  email.endsWith(".gserviceaccount.com") ? `serviceAccount:${email}` : `user:${email}`;

export async function liveInput(store: Store, projectId: string, sinceTimestamp?: string): Promise<AnalysisInput> {
  const project = await store.get<Project>("project", `projects/${projectId}`);
  const defaultServiceAccount = `${project?.projectNumber ?? ""}-compute@developer.gserviceaccount.com`;
  const services = (await store.list<StoredService>("service", `projects/${projectId}/`)).map((s) =>
    analyzedService({
      name: s.name,
      region: s.region,
      projectId,
      serviceAnnotations: s.annotations,
      labels: s.labels,
      template: s.template,
      defaultServiceAccount,
    }),
  );
  const policies = new Map(
    (await store.list<StoredPolicy>("policy", `projects/${projectId}`)).map((p) => [p.resource, p.policy]),
  );
  const keys = await store.list<ServiceAccountKey>("serviceAccountKey", `projects/${projectId}/`);
  const accounts = (await store.list<ServiceAccount>("serviceAccount", `projects/${projectId}/`)).filter(
    (a) => !a.serviceAgent,
  );
  const logs = await store.readLogs({
    logNamePrefix: `projects/${projectId}/logs/`,
    limit: 200_000,
    ...(sinceTimestamp ? { sinceTimestamp } : {}),
  });
  const exercised: ExercisedAccess[] = [];
  const callers = new Map<string, Set<string>>();
  for (const record of logs) {
    const payload = record.entry["protoPayload"] as AuditPayload | undefined;
    const email = payload?.authenticationInfo?.principalEmail;
    for (const check of payload?.authorizationInfo ?? []) {
      if (check.granted && email)
        exercised.push({ principal: memberOfEmail(email), permission: check.permission, resource: check.resource });
    }
    const request = record.entry as {
      httpRequest?: { status: number };
      labels?: Record<string, string>;
      resource?: { labels?: Record<string, string> };
    };
    const principal = request.labels?.["runguard.dev/principal"];
    const labels = request.resource?.labels;
    if (request.httpRequest && labels && request.httpRequest.status < 400) {
      const resource = `projects/${projectId}/locations/${labels["location"]}/services/${labels["service_name"]}`;
      if (principal) exercised.push({ principal: memberOfEmail(principal), permission: "run.routes.invoke", resource });
      // A request without a principal came from someone unauthenticated: the service does serve the public.
      callers.set(
        resource,
        (callers.get(resource) ?? new Set()).add(principal ? memberOfEmail(principal) : "allUsers"),
      );
    }
  }
  const negs = new Map(
    (await store.list<StoredNeg>("networkEndpointGroup", `projects/${projectId}/`)).map((n) => [
      n.resource,
      n.cloudRunService,
    ]),
  );
  const iapBackends = (await store.list<StoredBackendService>("backendService", `projects/${projectId}/`)).map((b) => ({
    name: b.name,
    iapEnabled: b.iap.enabled,
    services: b.backends.map((group) => negs.get(group) ?? "").filter(Boolean),
  }));
  return {
    projectId,
    iapBackends,
    ...(project ? { projectNumber: project.projectNumber } : {}),
    services,
    policies,
    serviceAccounts: accounts.map((a) => ({
      email: a.email,
      userManagedKeys: keys.filter((k) => k.serviceAccountEmail === a.email).length,
    })),
    secrets: (await store.list<StoredSecret>("secret", `projects/${projectId}/`)).map((s) => s.resource),
    groups: await store.list<Group>("group"),
    exercised,
    callers,
  };
}
