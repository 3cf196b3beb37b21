// IAM Credentials v1: generateAccessToken / generateIdToken for a service account.
import { requireServiceAccount } from "../../accounts/service-accounts.js";
import { generateAccessToken, generateIdToken } from "../../accounts/impersonation.js";
import { path, seg, type ApiCall, type Route } from "../route.js";

const SA = `/v1/projects/${seg("project")}/serviceAccounts/${seg("account")}`;
const M = "google.iam.credentials.v1.IAMCredentials.";

async function account(call: ApiCall, permission: string) {
  const found = await requireServiceAccount(
    call.platform,
    call.ctx,
    call.params["project"] ?? "-",
    call.params["account"] ?? "",
    permission,
  );
  call.audit.resourceName = found.name;
  call.audit.projectId = found.projectId;
  return found;
}

export const iamCredentialsRoutes: Route[] = [
  {
    api: "iamcredentials",
    method: "POST",
    path: path(`${SA}:generateAccessToken`),
    methodName: `${M}GenerateAccessToken`,
    mutates: true,
    async handle(call) {
      const found = await account(call, "iam.serviceAccounts.getAccessToken");
      return generateAccessToken(call.platform, call.ctx, found, call.body);
    },
  },
  {
    api: "iamcredentials",
    method: "POST",
    path: path(`${SA}:generateIdToken`),
    methodName: `${M}GenerateIdToken`,
    mutates: true,
    async handle(call) {
      const found = await account(call, "iam.serviceAccounts.getOpenIdToken");
      return generateIdToken(call.platform, call.ctx, found, call.body);
    },
  },
];
