// resetState: the project back to how a first start leaves it. Kept: the project itself (its id and number, so
// the default compute account keeps its email), its owner, users (Google accounts live outside projects), the
// data directory's keys and CA (so `runguard env` credentials and trusted certificates stay valid), the image
// catalogue, logs, and Artifact Registry / Cloud Storage / source builds (files beside the store).
import { requireProject, computeServiceAccountEmail } from "../accounts/projects.js";
import { newServiceAccount, serviceAccountName } from "../accounts/service-accounts.js";
import { policyEtag } from "../core/ids.js";
import type { Kind } from "../store/store.js";
import type { Policy } from "../iam/types.js";
import type { ApplySummary, DeclarativePlatform, StateChange } from "./context.js";

/** What a reset deletes, every document of each kind (in this project, where the kind is per project). */
const PROJECT_KINDS: readonly Kind[] = [
  "service",
  "revision",
  "secret",
  "secretVersion",
  "serviceAccount",
  "serviceAccountKey",
  "network",
  "subnetwork",
  "connector",
  "privateResource",
  "networkEndpointGroup",
  "backendService",
  "urlMap",
  "targetProxy",
  "forwardingRule",
  "sslCertificate",
  "address",
  "loadBalancer",
];

/** Kinds whose names do not start with projects/ID/: groups (Cloud Identity) are emptied whole. */
const GLOBAL_KINDS: readonly Kind[] = ["group"];

export async function resetState(
  platform: DeclarativePlatform,
  options: { onChange?: (change: StateChange) => void } = {},
): Promise<ApplySummary> {
  const project = await requireProject(platform, platform.config.projectId);
  const prefix = `projects/${project.projectId}/`;
  const computeEmail = computeServiceAccountEmail(project.projectNumber);
  const counts = new Map<string, number>();
  await platform.store.transact(async (tx) => {
    counts.clear();
    for (const kind of [...PROJECT_KINDS, ...GLOBAL_KINDS]) {
      const names = await namesOf(tx, kind, GLOBAL_KINDS.includes(kind) ? undefined : prefix);
      for (const name of names) tx.delete(kind, name);
      counts.set(kind, names.length);
    }
    // Every policy but the project's goes with its resource; the project's is the one a first start writes.
    for (const name of await namesOf(tx, "policy", undefined))
      if (name !== `projects/${project.projectId}`) tx.delete("policy", name);
    const policy: Policy = {
      version: 1,
      etag: policyEtag(),
      bindings: [
        { role: "roles/editor", members: [`serviceAccount:${computeEmail}`] },
        { role: "roles/owner", members: [`user:${platform.config.ownerEmail}`] },
      ],
    };
    tx.put("policy", `projects/${project.projectId}`, { resource: `projects/${project.projectId}`, policy });
    const compute = newServiceAccount(project.projectId, computeEmail, "Compute Engine default service account");
    const existingCompute = await tx.get("serviceAccount", serviceAccountName(project.projectId, computeEmail));
    tx.put("serviceAccount", serviceAccountName(project.projectId, computeEmail), existingCompute ?? compute);
  });
  const changes: StateChange[] = [];
  for (const [kind, count] of counts) {
    // The compute default account is deleted and put back as it was: not a change.
    const shown = kind === "serviceAccount" ? count - 1 : count;
    if (shown <= 0) continue;
    const change: StateChange = { action: "deleted", kind, name: `${kind}${shown === 1 ? "" : "s"}`, count: shown };
    changes.push(change);
    options.onChange?.(change);
  }
  return { changes, unchanged: 0, notes: [] };
}

/** The document names of a kind: listed documents carry them as `name` or `resource`; groups as their email. */
async function namesOf(
  tx: { list<T>(kind: Kind, prefix?: string): Promise<T[]> },
  kind: Kind,
  prefix: string | undefined,
): Promise<string[]> {
  const documents = await tx.list<{ name?: string; resource?: string; email?: string }>(kind, prefix);
  return documents.map((d) => (kind === "group" ? `groups/${d.email ?? ""}` : (d.resource ?? d.name ?? "")));
}
