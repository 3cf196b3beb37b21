// applyState: makes the local project what a declared state says, in dependency order (accounts and secrets
// before the services that run as them and read them). It creates and updates; it never deletes what the state
// does not name (`resetState` first for an exact copy).
import { mapStateToProject, projectMappingNote } from "./project-map.js";
import { openSession, type ApplySummary, type DeclarativePlatform, type StateChange } from "./context.js";
import { applyGroups, applyProjectBindings, applyServiceAccounts, applyUsers } from "./apply-identity.js";
import { applySecrets, applyVpc } from "./apply-resources.js";
import { applyServices } from "./apply-services.js";
import type { DeclaredState } from "./schema.js";
import { checkDeclaredService } from "./knative-schema.js";

export interface ApplyOptions {
  /** Called once per change, as it is made (the CLI prints them). */
  onChange?: (change: StateChange) => void;
  /**
   * Images that are in neither the local container store nor the image catalogue are mapped to runguard's hello
   * server under their own names (what `runguard import` does for a real project's registry images).
   */
  standInImages?: boolean;
}

export async function applyState(
  platform: DeclarativePlatform,
  state: DeclaredState,
  options: ApplyOptions = {},
): Promise<ApplySummary> {
  // loadState checked these already; a program's own DeclaredState reaches here unchecked. Before any change.
  for (const [index, { service }] of state.services.entries())
    checkDeclaredService(service, "declared state", `services[${index}].service`);
  const summary: ApplySummary = { changes: [], unchanged: 0, notes: [] };
  const session = await openSession(platform, options.onChange, summary);
  const local = { projectId: session.project.projectId, projectNumber: session.project.projectNumber };
  const note = projectMappingNote(state, local);
  if (note) session.note(note);
  const mapped = mapStateToProject(state, local);
  const region = mapped.region ?? platform.config.region;
  session.region = region;
  await applyUsers(session, mapped.users);
  await applyGroups(session, mapped.groups);
  await applyServiceAccounts(session, mapped.serviceAccounts);
  await applyVpc(session, mapped.vpc);
  await applySecrets(session, mapped.secrets);
  await applyProjectBindings(session, mapped.iam.bindings);
  await applyServices(session, mapped.services, region, { standInImages: options.standInImages === true });
  return summary;
}
