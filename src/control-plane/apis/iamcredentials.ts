// IAM Credentials v1: generateAccessToken / generateIdToken for a service account.
import { generateAccessToken, generateIdToken } from "../../accounts/impersonation.js";
import { path, seg, type Route } from "../route.js";
import { withAccount } from "./iam.js";
import { generateAccessTokenRequest, generateIdTokenRequest } from "../wire/iam-admin.js";

const SA = `/v1/projects/${seg("project")}/serviceAccounts/${seg("account")}`;
const M = "google.iam.credentials.v1.IAMCredentials.";

export const iamCredentialsRoutes: Route[] = [
  {
    api: "iamcredentials",
    method: "POST",
    path: path(`${SA}:generateAccessToken`),
    methodName: `${M}GenerateAccessToken`,
    body: generateAccessTokenRequest,
    mutates: true,
    handle: (call) =>
      withAccount(call, "iam.serviceAccounts.getAccessToken", (found) =>
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
      withAccount(call, "iam.serviceAccounts.getOpenIdToken", (found) =>
        generateIdToken(call.platform, call.ctx, found, call.body),
      ),
  },
];
