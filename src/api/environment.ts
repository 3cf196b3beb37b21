// The environment a test command sees (`runguard exec`, start().env): what `runguard env` prints for the owner,
// plus runguard's endpoints and every service's URLs under names a script can read without parsing anything,
// as Firebase's emulators:exec hands its scripts FIRESTORE_EMULATOR_HOST and friends.
import type { Endpoints } from "../app/runguard.js";

/** `orders-api` → `ORDERS_API`: service names are lowercase letters, digits and hyphens. */
export const envNameOf = (service: string) => service.toUpperCase().replace(/[^A-Z0-9]/g, "_");

export function endpointVariables(endpoints: Endpoints, dataDir: string): Record<string, string> {
  return {
    RUNGUARD_API_URL: endpoints.api,
    RUNGUARD_FRONT_END_URL: endpoints.frontEnd,
    RUNGUARD_LB_URL: endpoints.loadBalancer,
    RUNGUARD_LB_HTTPS_URL: endpoints.loadBalancerHttps,
    RUNGUARD_CA_CERT: endpoints.caCertificatePath,
    RUNGUARD_PROJECT: endpoints.projectId,
    RUNGUARD_PROJECT_NUMBER: endpoints.projectNumber,
    RUNGUARD_REGION: endpoints.region,
    // The CLI inside the command (`runguard token`, `runguard audit`) finds this runguard through it.
    RUNGUARD_DATA_DIR: dataDir,
  };
}

export interface ServiceAddress {
  name: string;
  /** The service's https://….run.app URL (reached through runguard's proxy, as HTTPS_PROXY says). */
  url: string;
  /** Its own loopback port, for clients that cannot set Host or use a proxy. */
  localUrl?: string;
}

/** RUNGUARD_URL_<NAME> and RUNGUARD_LOCAL_URL_<NAME> for each service. */
export function serviceVariables(services: readonly ServiceAddress[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const service of services) {
    env[`RUNGUARD_URL_${envNameOf(service.name)}`] = service.url;
    if (service.localUrl) env[`RUNGUARD_LOCAL_URL_${envNameOf(service.name)}`] = service.localUrl;
  }
  return env;
}
