// IAM v1 (iam.googleapis.com): service accounts, their keys, their IAM policies, and predefined roles.
import { notFound } from "../../core/errors.js";
import { requireProject } from "../../accounts/projects.js";
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

export async function account(call: ApiCall, permission: string): Promise<ServiceAccount> {
  const found = await requireServiceAccount(
    call.platform,
    call.ctx,
    call.params["project"] ?? "-",
    call.params["account"] ?? "",
    permission,
  );
  call.audit.resourceName = found.name;
  call.audit.projectId = found.projectId;
  call.audit.resource = {
    type: "service_account",
    labels: { email_id: found.email, project_id: found.projectId, unique_id: found.uniqueId },
  };
  return found;
}

async function projectOf(call: ApiCall): Promise<string> {
  const project = await requireProject(call.platform, call.params["project"] ?? "");
  call.audit.projectId = project.projectId;
  call.audit.resourceName = `projects/${project.projectId}`;
  return project.projectId;
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
    async handle(call) {
      const created = await createServiceAccount(call.platform, call.ctx, await projectOf(call), call.body);
      call.audit.resourceName = created.name;
      return publicAccount(created);
    },
  },
  {
    api: "iam",
    method: "GET",
    path: path(`${V1}${seg("project")}/serviceAccounts`),
    methodName: `${M}ListServiceAccounts`,
    mutates: false,
    async handle(call) {
      const accounts = await listServiceAccounts(call.platform, call.ctx, await projectOf(call));
      return accounts.length > 0 ? { accounts: accounts.map(publicAccount) } : {};
    },
  },
  {
    api: "iam",
    method: "GET",
    path: path(SA),
    methodName: `${M}GetServiceAccount`,
    mutates: false,
    handle: async (call) => publicAccount(await account(call, "iam.serviceAccounts.get")),
  },
  {
    api: "iam",
    method: "PATCH",
    path: path(SA),
    methodName: `${M}PatchServiceAccount`,
    body: patchServiceAccountRequest,
    mutates: true,
    async handle(call) {
      const found = await account(call, "iam.serviceAccounts.get");
      const patch = (call.body["serviceAccount"] ?? {}) as Record<string, unknown>;
      return publicAccount(await patchServiceAccount(call.platform, call.ctx, found, patch));
    },
  },
  {
    api: "iam",
    method: "PUT",
    path: path(SA),
    methodName: `${M}UpdateServiceAccount`,
    body: updateServiceAccountRequest,
    mutates: true,
    async handle(call) {
      const found = await account(call, "iam.serviceAccounts.get");
      return publicAccount(await patchServiceAccount(call.platform, call.ctx, found, call.body));
    },
  },
  {
    api: "iam",
    method: "DELETE",
    path: path(SA),
    methodName: `${M}DeleteServiceAccount`,
    mutates: true,
    async handle(call) {
      await deleteServiceAccount(call.platform, call.ctx, await account(call, "iam.serviceAccounts.delete"));
      return {};
    },
  },
  ...(["disable", "enable"] as const).map((verb): Route => ({
    api: "iam",
    method: "POST",
    path: path(`${SA}:${verb}`),
    methodName: `${M}${verb === "disable" ? "Disable" : "Enable"}ServiceAccount`,
    mutates: true,
    async handle(call) {
      const found = await account(call, `iam.serviceAccounts.${verb}`);
      await setServiceAccountDisabled(call.platform, call.ctx, found, verb === "disable");
      return {};
    },
  })),
  {
    api: "iam",
    method: "POST",
    path: path(`${SA}/keys`),
    methodName: `${M}CreateServiceAccountKey`,
    body: createServiceAccountKeyRequest,
    mutates: true,
    async handle(call) {
      const found = await account(call, "iam.serviceAccountKeys.create");
      const created = await createServiceAccountKey(call.platform, call.ctx, found, call.body, `${call.baseUrl}/token`);
      call.audit.resourceName = created.key.name;
      return {
        ...publicKey(created.key),
        privateKeyType: created.privateKeyType,
        privateKeyData: created.privateKeyData,
      };
    },
  },
  {
    api: "iam",
    method: "GET",
    path: path(`${SA}/keys`),
    methodName: `${M}ListServiceAccountKeys`,
    mutates: false,
    async handle(call) {
      const keys = await listServiceAccountKeys(
        call.platform,
        call.ctx,
        await account(call, "iam.serviceAccountKeys.list"),
      );
      return { keys: keys.map(publicKey) };
    },
  },
  {
    api: "iam",
    method: "GET",
    path: path(`${SA}/keys/${seg("key")}`),
    methodName: `${M}GetServiceAccountKey`,
    mutates: false,
    async handle(call) {
      const found = await account(call, "iam.serviceAccountKeys.get");
      const key = await requireServiceAccountKey(
        call.platform,
        call.ctx,
        found,
        call.params["key"] ?? "",
        "iam.serviceAccountKeys.get",
      );
      return publicKey(key);
    },
  },
  {
    api: "iam",
    method: "DELETE",
    path: path(`${SA}/keys/${seg("key")}`),
    methodName: `${M}DeleteServiceAccountKey`,
    mutates: true,
    async handle(call) {
      const found = await account(call, "iam.serviceAccountKeys.delete");
      const key = await requireServiceAccountKey(
        call.platform,
        call.ctx,
        found,
        call.params["key"] ?? "",
        "iam.serviceAccountKeys.delete",
      );
      call.audit.resourceName = key.name;
      await deleteServiceAccountKey(call.platform, key);
      return {};
    },
  },
  ...iamPolicyRoutes({
    api: "iam",
    resourcePath: SA,
    methodPrefix: M,
    methodNames: { get: "GetIAMPolicy", set: "SetIAMPolicy" },
    getMethods: ["POST"],
    permissions: { get: "iam.serviceAccounts.getIamPolicy", set: "iam.serviceAccounts.setIamPolicy" },
    resolve: async (call, permission) => (await account(call, permission)).name,
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
