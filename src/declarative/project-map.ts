// Files exported from another project name it everywhere: service-account emails, `projects/ID/…` and
// `projects/NUMBER/…` paths, the compute default account `NUMBER-compute@…`, service agents. Applied here, those
// names must be the local project's, so they are rewritten, in these places only (a service that happens to be
// named like the project keeps its name).
import type { DeclaredState } from "./schema.js";

export interface ProjectIdentity {
  projectId: string;
  projectNumber: string;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function projectRewriter(from: Partial<ProjectIdentity>, to: ProjectIdentity): (text: string) => string {
  const rules: Array<[RegExp, string]> = [];
  if (from.projectId && from.projectId !== to.projectId) {
    const id = escape(from.projectId);
    rules.push([new RegExp(`@${id}\\.iam\\.gserviceaccount\\.com`, "g"), `@${to.projectId}.iam.gserviceaccount.com`]);
    rules.push([new RegExp(`(^|/)projects/${id}(?=/|$)`, "g"), `$1projects/${to.projectId}`]);
  }
  if (from.projectNumber && from.projectNumber !== to.projectNumber) {
    const number = escape(from.projectNumber);
    rules.push([new RegExp(`(^|/)projects/${number}(?=/|$)`, "g"), `$1projects/${to.projectId}`]);
    rules.push([new RegExp(`(^|[:"\\s])${number}-compute@`, "g"), `$1${to.projectNumber}-compute@`]);
    rules.push([new RegExp(`service-${number}@`, "g"), `service-${to.projectNumber}@`]);
    rules.push([new RegExp(`^${number}$`), to.projectNumber]);
  }
  return (text) => rules.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

/** Every string of `value` rewritten (keys too: annotations and labels are keyed by name). */
function rewriteDeep<T>(value: T, rewrite: (text: string) => string): T {
  if (typeof value === "string") return rewrite(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => rewriteDeep(item, rewrite)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [rewrite(k), rewriteDeep(v, rewrite)]),
    ) as T;
  }
  return value;
}

/** The state with the project it was declared for replaced by `to`; secret values and file paths untouched. */
export function mapStateToProject(state: DeclaredState, to: ProjectIdentity): DeclaredState {
  const from = {
    ...(state.project ? { projectId: state.project } : {}),
    ...(state.projectNumber ? { projectNumber: state.projectNumber } : {}),
  };
  const rewrite = projectRewriter(from, to);
  const mapped = rewriteDeep({ ...state, secrets: [] }, rewrite);
  return {
    ...mapped,
    project: to.projectId,
    projectNumber: to.projectNumber,
    // A secret's value and the file holding it are the user's: never rewritten.
    secrets: state.secrets.map((secret) => ({
      ...secret,
      ...(secret.iamPolicy ? { iamPolicy: rewriteDeep(secret.iamPolicy, rewrite) } : {}),
    })),
  };
}

/** Whether the state was declared for another project than `local`, and what to tell the user if so. */
export function projectMappingNote(state: DeclaredState, local: ProjectIdentity): string | undefined {
  const otherId = state.project && state.project !== local.projectId ? state.project : undefined;
  const otherNumber =
    state.projectNumber && state.projectNumber !== local.projectNumber ? state.projectNumber : undefined;
  if (!otherId && !otherNumber) return undefined;
  const named = [otherId && `id ${otherId}`, otherNumber && `number ${otherNumber}`].filter(Boolean).join(", ");
  return `project ${named} is mapped to the local project ${local.projectId} (number ${local.projectNumber}): service-account emails, resource names and the default compute account follow it`;
}
