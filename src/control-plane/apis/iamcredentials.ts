// IAM Credentials v1: generateAccessToken / generateIdToken for a service account.
import { generateAccessToken, generateIdToken } from "../../accounts/impersonation.js";
import { ApiError } from "../../core/errors.js";
import { path, seg, type ApiCall, type Route } from "../route.js";
import { withAccount } from "./iam.js";
import { generateAccessTokenRequest, generateIdTokenRequest } from "../wire/iam-admin.js";

const SA = `/v1/projects/${seg("project")}/serviceAccounts/${seg("account")}`;
const M = "google.iam.credentials.v1.IAMCredentials.";

/**
 * IAM Credentials words a denial as Google does, naming no resource, with iam.googleapis.com as the ErrorInfo
 * domain (`Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).`).
 */
async function asIamCredentials(call: ApiCall, permission: string, work: Parameters<typeof withAccount>[2]) {
  try {
    return await withAccount(call, permission, work);
  } catch (thrown) {
    const denied =
      thrown instanceof ApiError &&
      thrown.status === "PERMISSION_DENIED" &&
      thrown.details.some((d) => (d["metadata"] as { permission?: unknown } | undefined)?.permission === permission);
    if (!denied) throw thrown;
    throw new ApiError("PERMISSION_DENIED", `Permission '${permission}' denied on resource (or it may not exist).`, [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "IAM_PERMISSION_DENIED",
        domain: "iam.googleapis.com",
        metadata: { permission },
      },
    ]);
  }
}

export const iamCredentialsRoutes: Route[] = [
  {
    api: "iamcredentials",
    method: "POST",
    path: path(`${SA}:generateAccessToken`),
    methodName: `${M}GenerateAccessToken`,
    body: generateAccessTokenRequest,
    mutates: true,
    handle: (call) =>
      asIamCredentials(call, "iam.serviceAccounts.getAccessToken", (found) =>
        generateAccessToken(call.platform, call.ctx, found, call.body),
      ),
  },
  {
    api: "iamcredentials",
    method: "POST",
    path: path(`${SA}:generateIdToken`),
    methodName: `${M}GenerateIdToken`,
    body: generateIdTokenRequest,
    mutates: true,
    handle: (call) =>
      asIamCredentials(call, "iam.serviceAccounts.getOpenIdToken", (found) =>
        generateIdToken(call.platform, call.ctx, found, call.body),
      ),
  },
];
