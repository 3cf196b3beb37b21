// Declarative state: a project described in `runguard.yaml` (or a directory of files exported from a real
// project), applied, exported and reset. The CLI (`runguard apply`, `export`, `reset`, `import`, and `up` with a
// runguard.yaml) and the npm API (`runguard exec`, `start().apply()`) call these, and only these:
//
//   loadState(path)                          → DeclaredState   a state file or a directory; INVALID_ARGUMENT
//                                                               (core/errors ApiError) naming the file and field
//   applyState(platform, state, { onChange }) → ApplySummary    idempotent: creates and updates, never deletes;
//                                                               a second apply reports no change
//   exportState(platform)                    → DeclaredState   the local project; secrets without values
//   renderState(state)                       → string          runguard.yaml text
//   resetState(platform, { onChange })       → ApplySummary    the project as a first start leaves it
//
// `platform` is app/platform.ts's Platform (or any object with its config, clock, store, engine, envelope and
// containerImages). Every change goes through the same domain functions the Google APIs call, as the project's
// owner, so validation and IAM checks are those of `gcloud`. docs/declarative.md is the format's reference.
export { loadState, loadStateDocument } from "./load.js";
export { STATE_FILE_NAME } from "./files.js";
export { applyState, type ApplyOptions } from "./apply.js";
export { exportState, renderState } from "./export.js";
export { resetState } from "./reset.js";
export { withSecretValues } from "./secret-values.js";
export { projectMappingNote } from "./project-map.js";
export type { ApplySummary, DeclarativePlatform, StateChange } from "./context.js";
export type {
  DeclaredBinding,
  DeclaredGroup,
  DeclaredPolicy,
  DeclaredSecret,
  DeclaredService,
  DeclaredServiceAccount,
  DeclaredState,
} from "./schema.js";
