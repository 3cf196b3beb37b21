// Every check, in report order.
import type { Check } from "../model.js";
import { defaultServiceAccount, privilegedServiceAccount } from "./runtime-identity.js";
import { plainEnvSecrets } from "./plain-env-secrets.js";
import { internalIngressWithoutIam, publicWithoutReason } from "./exposure.js";
import { broadProjectRoles, projectWideSecretAccess, userManagedKeys } from "./broad-grants.js";
import { latestInProduction, staticCredentialsForServiceCalls } from "./secrets-usage.js";
import { iapAgentCannotInvoke, iapBypassedByRunApp, iapOnBothLayers } from "./iap.js";
import { unusedGrants } from "./unused-grants.js";

export const ALL_CHECKS: readonly Check[] = [
  defaultServiceAccount,
  privilegedServiceAccount,
  plainEnvSecrets,
  internalIngressWithoutIam,
  publicWithoutReason,
  broadProjectRoles,
  projectWideSecretAccess,
  userManagedKeys,
  latestInProduction,
  staticCredentialsForServiceCalls,
  iapBypassedByRunApp,
  iapAgentCannotInvoke,
  iapOnBothLayers,
  unusedGrants,
];
