// Projects: the default one is created on first start, owned by the local developer, with the Compute Engine
// default service account holding roles/editor as in Google Cloud.
import { randomInt } from "node:crypto";
import { notFound } from "../core/errors.js";
import { toRfc3339 } from "../core/clock.js";
import type { Clock } from "../core/clock.js";
import type { Store } from "../store/store.js";
import type { Policy } from "../iam/types.js";
import { policyEtag } from "../core/ids.js";
import { newServiceAccount, serviceAccountName } from "./service-accounts.js";

/** What this module's operations use. */
export interface ProjectsDeps {
  readonly clock: Clock;
  readonly store: Store;
}

export interface Project {
  projectId: string;
  projectNumber: string;
  name: string;
  lifecycleState: "ACTIVE";
  createTime: string;
}

export const projectResource = (projectId: string) => `projects/${projectId}`;
export const computeServiceAccountEmail = (projectNumber: string) =>
  `${projectNumber}-compute@developer.gserviceaccount.com`;

/** Finds a project by id or number; Google's APIs accept either. */
export async function findProject(deps: Pick<ProjectsDeps, "store">, idOrNumber: string): Promise<Project | undefined> {
  const byId = await deps.store.get<Project>("project", projectResource(idOrNumber));
  if (byId || !/^\d+$/.test(idOrNumber)) return byId;
  const all = await deps.store.list<Project>("project");
  return all.find((p) => p.projectNumber === idOrNumber);
}

export async function requireProject(deps: Pick<ProjectsDeps, "store">, idOrNumber: string): Promise<Project> {
  const project = await findProject(deps, idOrNumber);
  if (!project) throw notFound(`Project '${idOrNumber}' not found.`);
  return project;
}

export async function listProjects(deps: Pick<ProjectsDeps, "store">): Promise<Project[]> {
  return deps.store.list<Project>("project");
}

/** Creates the project, its owner binding and its default compute service account, once. */
export async function ensureProject(deps: ProjectsDeps, projectId: string, ownerEmail: string): Promise<Project> {
  return deps.store.transact(async (tx) => {
    const existing = await tx.get<Project>("project", projectResource(projectId));
    if (existing) return existing;
    const projectNumber = String(randomInt(100_000_000_000, 999_999_999_999));
    const project: Project = {
      projectId,
      projectNumber,
      name: projectId,
      lifecycleState: "ACTIVE",
      createTime: toRfc3339(deps.clock.now()),
    };
    const computeEmail = computeServiceAccountEmail(projectNumber);
    const compute = newServiceAccount(projectId, computeEmail, "Compute Engine default service account");
    const policy: Policy = {
      version: 1,
      etag: policyEtag(),
      bindings: [
        { role: "roles/editor", members: [`serviceAccount:${computeEmail}`] },
        { role: "roles/owner", members: [`user:${ownerEmail}`] },
      ],
    };
    tx.put("project", projectResource(projectId), project);
    tx.put("serviceAccount", serviceAccountName(projectId, computeEmail), compute);
    tx.put("policy", projectResource(projectId), { resource: projectResource(projectId), policy });
    return project;
  });
}
