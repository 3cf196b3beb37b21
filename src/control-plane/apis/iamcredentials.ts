// IAM Credentials v1: generateAccessToken / generateIdToken for a service account.
import { generateAccessToken, generateIdToken } from "../../accounts/impersonation.js";
import { ApiError } from "../../core/errors.js";
import { path, seg, type ApiCall, type Route } from "../route.js";
import { accountAuditTarget, withAccount } from "./iam.js";
import { AuditedFailure, auditAs } from "../audit-target.js";
import { findServiceAccount, type ServiceAccount } from "../../accounts/service-accounts.js";
import { generateAccessTokenRequest, generateIdTokenRequest } from "../wire/iam-admin.js";

const SA = `/v1/projects/${seg("project")}/serviceAccounts/${seg("account")}`;
const M = "google.iam.credentials.v1.IAMCredentials.";

type Work = (found: ServiceAccount) => unknown;

/** Google's ErrorInfo for a denial, without the resource, as IAM Credentials sends it. */
const deniedAsIamCredentials = (permission: string) =>
  new ApiError("PERMISSION_DENIED", `Permission '${permission}' denied on resource (or it may not exist).`, [
    {
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "IAM_PERMISSION_DENIED",
      domain: "iam.googleapis.com",
      metadata: { permission },
    },
  ]);

const isDenial = (thrown: unknown, permission: string) =>
  thrown instanceof ApiError &&
  thrown.status === "PERMISSION_DENIED" &&
  thrown.details.some((d) => (d["metadata"] as { permission?: unknown } | undefined)?.permission === permission);

/**
 * Runs a call on the target account. Without delegates the caller needs the permission on the target; with them
 * the chain is checked by the operation (the caller needs it on the first delegate). IAM Credentials words a
 * denial naming no resource, with iam.googleapis.com as the ErrorInfo domain
 * (`Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).`).
 */
async function onTarget(call: ApiCall, permission: string, work: Work) {
  try {
    const delegates = call.body["delegates"];
    if (!Array.isArray(delegates) || delegates.length === 0) return await withAccount(call, permission, work);
    const found = await findServiceAccount(call.platform, call.params["project"] ?? "-", call.params["account"] ?? "");
    if (!found) throw deniedAsIamCredentials(permission);
    return await auditAs(accountAuditTarget(found), () => work(found));
  } catch (thrown) {
    if (thrown instanceof AuditedFailure) {
      if (isDenial(thrown.failure, permission))
        throw new AuditedFailure(deniedAsIamCredentials(permission), thrown.target);
      throw thrown;
    }
    throw isDenial(thrown, permission) ? deniedAsIamCredentials(permission) : thrown;
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
      onTarget(call, "iam.serviceAccounts.getAccessToken", (found) =>
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
      onTarget(call, "iam.serviceAccounts.getOpenIdToken", (found) =>
        generateIdToken(call.platform, call.ctx, found, call.body),
      ),
  },
];
