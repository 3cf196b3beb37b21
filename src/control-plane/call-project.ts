// The project a call names, found the one way every API does: by id or number, NOT_FOUND otherwise (see
// requireProject). inProject runs the rest of a handler in it, so the audit entry is written to that project
// whether the handler succeeds or fails.
import { requireProject, type Project } from "../accounts/projects.js";
import { auditAs, type Audited } from "./audit-target.js";
import type { ApiCall } from "./route.js";

/** The project named by the `project` path parameter, or by `idOrNumber` (Knative's namespace). */
export function projectOf(call: ApiCall, idOrNumber = call.params["project"] ?? ""): Promise<Project> {
  return requireProject(call.platform, idOrNumber);
}

export async function inProject(
  call: ApiCall,
  work: (project: Project) => unknown,
  idOrNumber?: string,
): Promise<Audited> {
  const project = await projectOf(call, idOrNumber);
  return auditAs({ projectId: project.projectId }, () => work(project));
}
