// IAM v1 (iam.googleapis.com): service accounts, their keys, their IAM policies, and predefined roles.
import { notFound } from "../../core/errors.js";
import {
  createServiceAccount,
  deleteServiceAccount,
  findServiceAccount,
  listServiceAccounts,
  patchServiceAccount,
  requireServiceAccount,
  setServiceAccountDisabled,
  type ServiceAccount,
} from "../../accounts/service-accounts.js";
import {
  createServiceAccountKey,
  deleteServiceAccountKey,
  listServiceAccountKeys,
  requireServiceAccountKey,
  type ServiceAccountKey,
} from "../../accounts/service-account-keys.js";
import { testIamPermissions } from "../../policies/policy-ops.js";
import { iamPolicyRoutes } from "./iam-policy-routes.js";
import { getRole, listRoles } from "../../iam/roles.js";
import { path, seg, type ApiCall, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";
import { inProject } from "../call-project.js";
import { testIamPermissionsRequest } from "../wire/iam-policy.js";
import {
  createServiceAccountKeyRequest,
  createServiceAccountRequest,
  patchServiceAccountRequest,
  updateServiceAccountRequest,
} from "../wire/iam-admin.js";

const V1 = "/v1/projects/";
const SA = `${V1}${seg("project")}/serviceAccounts/${seg("account")}`;

export function publicAccount(account: ServiceAccount) {
  const { serviceAgent: _agent, ...rest } = account;
  return rest;
}

function publicKey(key: ServiceAccountKey) {
  return {
    name: key.name,
    validAfterTime: key.validAfterTime,
    validBeforeTime: key.validBeforeTime,
    keyAlgorithm: key.keyAlgorithm,
    keyOrigin: key.keyOrigin,
    keyType: key.keyType,
    ...(key.disabled ? { disabled: true } : {}),
  };
}

/** Runs `work` on the service account the call names, once `permission` on it is granted; audited against it. */
export async function withAccount(call: ApiCall, permission: string, work: (found: ServiceAccount) => unknown) {
  const found = await requireServiceAccount(
    call.platform,
    call.ctx,
    call.params["project"] ?? "-",
    call.params["account"] ?? "",
    permission,
  );
  return auditAs(accountAuditTarget(found), () => work(found));
}

/** What the audit entry of a call on a service account names. */
export const accountAuditTarget = (found: ServiceAccount) => ({
  resourceName: found.name,
  projectId: found.projectId,
  resource: {
    type: "service_account",
    labels: { email_id: found.email, project_id: found.projectId, unique_id: found.uniqueId },
  },
});

/** Runs `work` in the call's project, audited against the project. */
function inAuditedProject(call: ApiCall, work: (projectId: string) => unknown) {
  return inProject(call, (project) =>
    auditAs({ resourceName: `projects/${project.projectId}` }, () => work(project.projectId)),
  );
}

const M = "google.iam.admin.v1.";

export const iamRoutes: Route[] = [
  {
    api: "iam",
    method: "POST",
    path: path(`${V1}${seg("project")}/serviceAccounts`),
    methodName: `${M}CreateServiceAccount`,
    body: createServiceAccountRequest,
    mutates: true,
    handle: (call) =>
      inAuditedProject(call, async (projectId) => {
        const created = await createServiceAccount(call.platform, call.ctx, projectId, call.body);
        return auditAs({ resourceName: created.name }, () => publicAccount(created));
      }),
  },
  {
    api: "iam",
    method: "GET",
    path: path(`${V1}${seg("project")}/serviceAccounts`),
    methodName: `${M}ListServiceAccounts`,
    mutates: false,
    handle: (call) =>
      inAuditedProject(call, async (projectId) => {
        const accounts = await listServiceAccounts(call.platform, call.ctx, projectId);
        return accounts.length > 0 ? { accounts: accounts.map(publicAccount) } : {};
      }),
  },
  {
    api: "iam",
    method: "GET",
    path: path(SA),
    methodName: `${M}GetServiceAccount`,
    mutates: false,
    handle: (call) => withAccount(call, "iam.serviceAccounts.get", publicAccount),
  },
  {
    api: "iam",
    method: "PATCH",
    path: path(SA),
    methodName: `${M}PatchServiceAccount`,
    body: patchServiceAccountRequest,
    mutates: true,
    handle: (call) =>
      withAccount(call, "iam.serviceAccounts.get", async (found) => {
        const patch = (call.body["serviceAccount"] ?? {}) as Record<string, unknown>;
        return publicAccount(await patchServiceAccount(call.platform, call.ctx, found, patch));
      }),
  },
  {
    api: "iam",
    method: "PUT",
    path: path(SA),
    methodName: `${M}UpdateServiceAccount`,
    body: updateServiceAccountRequest,
    mutates: true,
    handle: (call) =>
      withAccount(call, "iam.serviceAccounts.get", async (found) =>
        publicAccount(await patchServiceAccount(call.platform, call.ctx, found, call.body)),
      ),
  },
  {
    api: "iam",
    method: "DELETE",
    path: path(SA),
    methodName: `${M}DeleteServiceAccount`,
    mutates: true,
    handle: (call) =>
      withAccount(call, "iam.serviceAccounts.delete", async (found) => {
        await deleteServiceAccount(call.platform, call.ctx, found);
        return {};
      }),
  },
  ...(["disable", "enable"] as const).map((verb): Route => ({
    api: "iam",
    method: "POST",
    path: path(`${SA}:${verb}`),
    methodName: `${M}${verb === "disable" ? "Disable" : "Enable"}ServiceAccount`,
    mutates: true,
    handle: (call) =>
      withAccount(call, `iam.serviceAccounts.${verb}`, async (found) => {
        await setServiceAccountDisabled(call.platform, call.ctx, found, verb === "disable");
        return {};
      }),
  })),
  {
    api: "iam",
    method: "POST",
    path: path(`${SA}/keys`),
    methodName: `${M}CreateServiceAccountKey`,
    body: createServiceAccountKeyRequest,
    mutates: true,
    handle: (call) =>
      withAccount(call, "iam.serviceAccountKeys.create", async (found) => {
        const created = await createServiceAccountKey(call.platform, call.ctx, found, call.body);
        return auditAs({ resourceName: created.key.name }, () => ({
          ...publicKey(created.key),
          privateKeyType: created.privateKeyType,
          privateKeyData: created.privateKeyData,
        }));
      }),
  },
  {
    api: "iam",
    method: "GET",
    path: path(`${SA}/keys`),
    methodName: `${M}ListServiceAccountKeys`,
    mutates: false,
    handle: (call) =>
      withAccount(call, "iam.serviceAccountKeys.list", async (found) => {
        const keys = await listServiceAccountKeys(call.platform, call.ctx, found);
        return { keys: keys.map(publicKey) };
      }),
  },
  {
    api: "iam",
    method: "GET",
    path: path(`${SA}/keys/${seg("key")}`),
    methodName: `${M}GetServiceAccountKey`,
    mutates: false,
    handle: (call) =>
      withAccount(call, "iam.serviceAccountKeys.get", async (found) => {
        const key = await requireServiceAccountKey(
          call.platform,
          call.ctx,
          found,
          call.params["key"] ?? "",
          "iam.serviceAccountKeys.get",
        );
        return publicKey(key);
      }),
  },
  {
    api: "iam",
    method: "DELETE",
    path: path(`${SA}/keys/${seg("key")}`),
    methodName: `${M}DeleteServiceAccountKey`,
    mutates: true,
    handle: (call) =>
      withAccount(call, "iam.serviceAccountKeys.delete", async (found) => {
        const key = await requireServiceAccountKey(
          call.platform,
          call.ctx,
          found,
          call.params["key"] ?? "",
          "iam.serviceAccountKeys.delete",
        );
        return auditAs({ resourceName: key.name }, async () => {
          await deleteServiceAccountKey(call.platform, key);
          return {};
        });
      }),
  },
  ...iamPolicyRoutes({
    api: "iam",
    resourcePath: SA,
    methodPrefix: M,
    methodNames: { get: "GetIAMPolicy", set: "SetIAMPolicy" },
    getMethods: ["POST"],
    permissions: { get: "iam.serviceAccounts.getIamPolicy", set: "iam.serviceAccounts.setIamPolicy" },
    withResource: (call, permission, work) => withAccount(call, permission, (found) => work(found.name)),
  }),
  {
    api: "iam",
    method: "POST",
    path: path(`${SA}:testIamPermissions`),
    body: testIamPermissionsRequest,
    methodName: `${M}TestIamPermissions`,
    mutates: false,
    async handle(call) {
      const found = await findServiceAccount(
        call.platform,
        call.params["project"] ?? "-",
        call.params["account"] ?? "",
      );
      return found ? testIamPermissions(call.platform, call.ctx, found.name, call.body) : {};
    },
  },
  {
    api: "iam",
    method: "GET",
    path: path("/v1/roles"),
    methodName: `${M}ListRoles`,
    mutates: false,
    handle: async () => ({
      roles: listRoles().map((r) => ({
        name: r.name,
        title: r.title,
        description: r.description,
        stage: "GA",
        etag: "AA==",
      })),
    }),
  },
  {
    api: "iam",
    method: "GET",
    path: path(`/v1/roles/${seg("role")}`),
    methodName: `${M}GetRole`,
    mutates: false,
    async handle(call) {
      const role = getRole(`roles/${call.params["role"] ?? ""}`);
      if (!role) throw notFound(`The role named roles/${call.params["role"]} was not found.`);
      return {
        name: role.name,
        title: role.title,
        description: role.description,
        includedPermissions: [...role.includedPermissions],
        stage: "GA",
        etag: "AA==",
      };
    },
  },
];
