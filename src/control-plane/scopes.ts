// OAuth scopes an access token needs for each API, as Google's discovery documents list them: cloud-platform
// covers every API; cloud-platform.read-only (and an API's own read-only scope) covers reads where that API
// lists it; a few APIs also take their own scope. A token without one of them gets Google's 403
// ACCESS_TOKEN_SCOPE_INSUFFICIENT, before any permission is checked.
import { ApiError } from "../core/errors.js";
import type { ApiName, Route } from "./route.js";

const AUTH = "https://www.googleapis.com/auth/";
export const CLOUD_PLATFORM = `${AUTH}cloud-platform`;
const CLOUD_PLATFORM_READ_ONLY = `${AUTH}cloud-platform.read-only`;

interface ApiScopes {
  /** Scopes accepted for every method of the API (besides cloud-platform). */
  any: readonly string[];
  /** Scopes accepted only for methods that change nothing. */
  read: readonly string[];
}

/** The one table: per API, the scopes Google's discovery document lists for its methods. */
export const API_SCOPES: Record<ApiName, ApiScopes> = {
  iam: { any: [], read: [] },
  iamcredentials: { any: [`${AUTH}iam`], read: [] },
  cloudresourcemanager: { any: [], read: [CLOUD_PLATFORM_READ_ONLY] },
  serviceusage: { any: [`${AUTH}service.management`], read: [CLOUD_PLATFORM_READ_ONLY] },
  run: { any: [], read: [] },
  secretmanager: { any: [], read: [] },
  compute: { any: [`${AUTH}compute`], read: [CLOUD_PLATFORM_READ_ONLY, `${AUTH}compute.readonly`] },
  logging: {
    any: [`${AUTH}logging.admin`],
    read: [CLOUD_PLATFORM_READ_ONLY, `${AUTH}logging.read`],
  },
  vpcaccess: { any: [], read: [] },
  oauth2: { any: [], read: [] },
  iap: { any: [], read: [] },
  artifactregistry: { any: [], read: [CLOUD_PLATFORM_READ_ONLY] },
  cloudbuild: { any: [], read: [] },
  storage: {
    any: [`${AUTH}devstorage.full_control`, `${AUTH}devstorage.read_write`],
    read: [CLOUD_PLATFORM_READ_ONLY, `${AUTH}devstorage.read_only`],
  },
  runguard: { any: [], read: [] },
};

/** The `service` Google names in the error: the API's host. */
const serviceOf = (api: ApiName) => (api === "runguard" ? "runguard.local" : `${api}.googleapis.com`);

export function scopesCover(route: Pick<Route, "api" | "mutates">, scopes: readonly string[]): boolean {
  const accepted = API_SCOPES[route.api];
  return scopes.some(
    (scope) =>
      scope === CLOUD_PLATFORM || accepted.any.includes(scope) || (!route.mutates && accepted.read.includes(scope)),
  );
}

/** Throws Google's 403 when the token's scopes do not cover the route. */
export function requireScopes(route: Pick<Route, "api" | "mutates" | "methodName">, scopes: readonly string[]): void {
  if (scopesCover(route, scopes)) return;
  throw new ApiError("PERMISSION_DENIED", "Request had insufficient authentication scopes.", [
    {
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
      domain: "googleapis.com",
      metadata: { service: serviceOf(route.api), method: route.methodName },
    },
  ]);
}
