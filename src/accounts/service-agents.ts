// Google-managed service agents, e.g. the IAP agent service-PROJECT_NUMBER@gcp-sa-iap.iam.gserviceaccount.com.
// They are created on demand (serviceusage generateServiceIdentity) and hold no role until someone grants one.
import type { Store } from "../store/store.js";
import type { Project } from "./projects.js";
import { newServiceAccount, serviceAccountName, type ServiceAccount } from "./service-accounts.js";

/** What this module's operations use. */
export interface ServiceAgentsDeps {
  readonly store: Store;
}

/** `iap.googleapis.com` → `service-123@gcp-sa-iap.iam.gserviceaccount.com` */
export function serviceAgentEmail(projectNumber: string, service: string): string {
  const short = service.replace(/\.googleapis\.com$/, "");
  return `service-${projectNumber}@gcp-sa-${short}.iam.gserviceaccount.com`;
}

export async function ensureServiceAgent(
  deps: ServiceAgentsDeps,
  project: Project,
  service: string,
): Promise<ServiceAccount> {
  const email = serviceAgentEmail(project.projectNumber, service);
  const name = serviceAccountName(project.projectId, email);
  return deps.store.transact(async (tx) => {
    const existing = await tx.get<ServiceAccount>("serviceAccount", name);
    if (existing) return existing;
    const agent: ServiceAccount = { ...newServiceAccount(project.projectId, email), serviceAgent: true };
    tx.put("serviceAccount", name, agent);
    return agent;
  });
}
