// runguard's npm API: `import { start } from "runguard"`. Only what is named here is public.
export { start, type StartOptions, type StartedRunguard, type PrincipalText } from "./start.js";
export type { DeployOptions, DeployedService, ServiceBinding } from "./deploy.js";
export type { ServiceAddress } from "./environment.js";
export type { Endpoints } from "../app/runguard.js";
export type { ApplySummary, StateChange } from "../declarative/index.js";
export { ApiError, type GoogleStatus } from "../core/errors.js";
