// Google APIs that gcloud has commands for but runguard does not emulate. Rather than "the requested URL was
// not found", they answer as Google does for a method a server lacks: UNIMPLEMENTED (HTTP 501), naming what is
// missing. Matched after every emulated route (app/routes.ts), so only what nothing else answers lands here.
import { unimplemented } from "../../core/errors.js";
import type { ApiName, Route } from "../route.js";

interface Family {
  api: ApiName;
  /** What is missing, as the message's subject ("X is not implemented in runguard"). */
  what: string;
  /** The URL paths (and everything under them) that belong to it. */
  paths: string[];
}

// Unnamed: one pattern joins several paths, and nothing here needs their values.
const PROJECT = "[^/:]+";
const REGION = "[^/:]+";

export const NOT_EMULATED: readonly Family[] = [
  {
    api: "run",
    what: "The Cloud Run Jobs API",
    paths: [
      `/apis/run.googleapis.com/v1/namespaces/${PROJECT}/(?:jobs|executions|tasks)`,
      `/v1/projects/${PROJECT}/locations/${REGION}/(?:jobs|executions|tasks)`,
      `/v2/projects/${PROJECT}/locations/${REGION}/jobs`,
    ],
  },
  {
    api: "run",
    what: "Cloud Run domain mapping",
    paths: [
      `/apis/domains.cloudrun.com/v1/namespaces/${PROJECT}/domainmappings`,
      `/v1/projects/${PROJECT}/locations/${REGION}/(?:domainmappings|authorizeddomains)`,
      `/v1/projects/${PROJECT}/authorizeddomains`,
    ],
  },
  {
    api: "iam",
    what: "Custom IAM role management",
    paths: [
      `/v1/projects/${PROJECT}/roles`,
      "/v1/organizations/[^/:]+/roles",
      // gcloud iam roles create asks which permissions a custom role may hold first.
      "/v1/permissions:queryTestablePermissions",
    ],
  },
  {
    api: "compute",
    what: "Regional load balancing (regional backend services)",
    paths: [`/compute/(?:v1|beta|alpha)/projects/${PROJECT}/regions/${REGION}/backendServices`],
  },
];

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

export const notEmulatedRoutes: Route[] = NOT_EMULATED.flatMap((family) =>
  METHODS.map((method): Route => ({
    api: family.api,
    method,
    // The collection, one of its members, or a custom method on either (`:run`, `:getIamPolicy`).
    path: new RegExp(`^(?:${family.paths.join("|")})(?:[/:].*)?$`),
    methodName: `runguard.NotEmulated.${family.what.replace(/\W+/g, "")}`,
    mutates: false,
    handle() {
      return Promise.reject(
        unimplemented(
          `${family.what} is not implemented in runguard (see "Deliberate differences from Cloud Run" in its README).`,
        ),
      );
    },
  })),
);
