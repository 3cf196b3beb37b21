// getIamPolicy / setIamPolicy routes for any resource that carries a policy: the API, the path of the
// resource, how to find it (checking the given permission), and its permissions. One definition serves the
// service accounts, secrets and Cloud Run services APIs.
import { getIamPolicy, setIamPolicy } from "../../policies/policy-ops.js";
import { getIamPolicyRequest, setIamPolicyRequest } from "../wire/iam-policy.js";
import { path, type ApiCall, type ApiName, type Route } from "../route.js";

export interface PolicyRoutesSpec {
  api: ApiName;
  /** Path source of the resource, without the `:getIamPolicy` suffix. */
  resourcePath: string;
  /** e.g. google.iam.admin.v1. */
  methodPrefix: string;
  methodNames?: { get: string; set: string };
  /** HTTP methods that answer getIamPolicy (Run and Secret Manager: GET; IAM and Resource Manager: POST). */
  getMethods: ReadonlyArray<"GET" | "POST">;
  permissions: { get: string; set: string };
  /**
   * Finds the resource (authorizing `permission` first) and runs `work` on its IAM resource name, with the
   * audit target (auditAs) naming what was found.
   */
  withResource(call: ApiCall, permission: string, work: (resource: string) => Promise<unknown>): Promise<unknown>;
}

export function requestedPolicyVersionOf(call: ApiCall): unknown {
  return (
    call.query.get("options.requestedPolicyVersion") ??
    (call.body["options"] as { requestedPolicyVersion?: unknown } | undefined)?.requestedPolicyVersion
  );
}

export function iamPolicyRoutes(spec: PolicyRoutesSpec): Route[] {
  const names = spec.methodNames ?? { get: "GetIamPolicy", set: "SetIamPolicy" };
  const getRoutes = spec.getMethods.map((method): Route => ({
    api: spec.api,
    method,
    path: path(`${spec.resourcePath}:getIamPolicy`),
    body: getIamPolicyRequest,
    methodName: `${spec.methodPrefix}${names.get}`,
    mutates: false,
    handle: (call) =>
      spec.withResource(call, spec.permissions.get, (resource) =>
        getIamPolicy(
          call.platform,
          call.ctx,
          resource,
          { permission: spec.permissions.get },
          requestedPolicyVersionOf(call),
        ),
      ),
  }));
  const setRoute: Route = {
    api: spec.api,
    method: "POST",
    path: path(`${spec.resourcePath}:setIamPolicy`),
    body: setIamPolicyRequest,
    methodName: `${spec.methodPrefix}${names.set}`,
    mutates: true,
    handle: (call) =>
      spec.withResource(call, spec.permissions.set, (resource) =>
        setIamPolicy(call.platform, call.ctx, resource, call.body, { permission: spec.permissions.set }),
      ),
  };
  return [...getRoutes, setRoute];
}
