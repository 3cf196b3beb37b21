// Every check, in report order.
import type { Check } from "../model.js";
import { defaultServiceAccount, privilegedServiceAccount } from "./runtime-identity.js";
import { plainEnvSecrets } from "./plain-env-secrets.js";
import { internalIngressWithoutIam, publicCalledOnlyByServices, publicNotMarkedPublic } from "./exposure.js";
import { broadProjectRoles, projectWideSecretAccess, userManagedKeys } from "./broad-grants.js";
import { latestInProduction, staticCredentialsForServiceCalls } from "./secrets-usage.js";
import { iapAgentCannotInvoke, iapBypassedByRunApp, iapOnBothLayers } from "./iap.js";
import { unusedGrants } from "./unused-grants.js";

export const ALL_CHECKS: readonly Check[] = [
  defaultServiceAccount,
  privilegedServiceAccount,
  plainEnvSecrets,
  internalIngressWithoutIam,
  publicCalledOnlyByServices,
  broadProjectRoles,
  projectWideSecretAccess,
  userManagedKeys,
  latestInProduction,
  staticCredentialsForServiceCalls,
  iapBypassedByRunApp,
  iapAgentCannotInvoke,
  iapOnBothLayers,
  unusedGrants,
  // Last, so that the SARIF rule indexes of the others stay as they were.
  publicNotMarkedPublic,
];
