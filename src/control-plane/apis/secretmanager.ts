// Secret Manager v1 (secretmanager.googleapis.com) as gcloud and the client libraries call it.
import {
  addVersion,
  createSecret,
  deleteSecret,
  findVersion,
  listSecrets,
  listVersions,
  openPayload,
  publicSecretName,
  requireSecret,
  secretResource,
  setVersionState,
  updateSecret,
  type SecretScope,
} from "../../secrets/secret-manager.js";
import type { StoredSecret, StoredVersion } from "../../secrets/types.js";
import { testIamPermissions } from "../../policies/policy-ops.js";
import { iamPolicyRoutes } from "./iam-policy-routes.js";
import { path, seg, type ApiCall, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";
import { inProject } from "../call-project.js";
import { testIamPermissionsRequest } from "../wire/iam-policy.js";
import {
  addSecretVersionRequest,
  createSecretRequest,
  updateSecretRequest,
  versionStateRequest,
} from "../wire/secretmanager.js";

const SECRETS = `/v1/projects/${seg("project")}/secrets`;
const SECRET = `${SECRETS}/${seg("secret")}`;
const VERSION = `${SECRET}/versions/${seg("version")}`;
const M = "google.cloud.secretmanager.v1.SecretManagerService.";

/** Runs `work` in the call's project, as Secret Manager names it. */
function inScope(call: ApiCall, work: (scope: SecretScope) => unknown) {
  return inProject(call, (project) => work({ projectId: project.projectId, projectNumber: project.projectNumber }));
}

function renderSecret(scope: SecretScope, secret: StoredSecret) {
  return {
    name: publicSecretName(scope, secret.secretId),
    replication: secret.replication,
    createTime: secret.createTime,
    ...(secret.labels ? { labels: secret.labels } : {}),
    ...(secret.annotations ? { annotations: secret.annotations } : {}),
    etag: secret.etag,
  };
}

function renderVersion(scope: SecretScope, secret: StoredSecret, version: StoredVersion) {
  return {
    name: `${publicSecretName(scope, secret.secretId)}/versions/${version.version}`,
    createTime: version.createTime,
    ...(version.destroyTime ? { destroyTime: version.destroyTime } : {}),
    state: version.state,
    replicationStatus: { automatic: {} },
    etag: version.etag,
    clientSpecifiedPayloadChecksum: version.clientSpecifiedPayloadChecksum,
  };
}

interface FoundSecret {
  scope: SecretScope;
  secret: StoredSecret;
}

/** Runs `work` on the secret the call names, once `permission` on it is granted; audited against the secret. */
function withSecret(call: ApiCall, permission: string, work: (found: FoundSecret) => unknown) {
  return inScope(call, (scope) => {
    const id = call.params["secret"] ?? "";
    const target = {
      resourceName: publicSecretName(scope, id),
      resource: { type: "secretmanager.googleapis.com/Secret", labels: { project_id: scope.projectId, secret_id: id } },
    };
    return auditAs(target, async () =>
      work({ scope, secret: await requireSecret(call.platform, call.ctx, scope, id, permission) }),
    );
  });
}

/** Runs `work` on the version the call names (`latest` resolved); audited against the version asked for. */
function withVersion(
  call: ApiCall,
  permission: string,
  work: (found: FoundSecret & { version: StoredVersion; publicVersion: string }) => unknown,
) {
  return withSecret(call, permission, ({ scope, secret }) => {
    const versionId = call.params["version"] ?? "";
    const publicName = publicSecretName(scope, secret.secretId);
    return auditAs({ resourceName: `${publicName}/versions/${versionId}` }, async () => {
      const version = await findVersion(call.platform, secret, versionId, publicName);
      return work({ scope, secret, version, publicVersion: `${publicName}/versions/${version.version}` });
    });
  });
}

function page<T>(items: T[], call: ApiCall): { items: T[]; nextPageToken?: string } {
  const size = Math.min(Number(call.query.get("pageSize") ?? 25_000) || 25_000, 25_000);
  const start = Number(call.query.get("pageToken") ?? 0) || 0;
  const slice = items.slice(start, start + size);
  return start + size < items.length ? { items: slice, nextPageToken: String(start + size) } : { items: slice };
}

const stateChange = (verb: "disable" | "enable" | "destroy"): Route => ({
  api: "secretmanager",
  method: "POST",
  path: path(`${VERSION}:${verb}`),
  methodName: `${M}${verb[0]?.toUpperCase()}${verb.slice(1)}SecretVersion`,
  body: versionStateRequest,
  mutates: true,
  handle: (call) =>
    withVersion(call, `secretmanager.versions.${verb}`, async ({ scope, secret, version, publicVersion }) => {
      const state = verb === "disable" ? "DISABLED" : verb === "enable" ? "ENABLED" : "DESTROYED";
      const etag = typeof call.body["etag"] === "string" ? call.body["etag"] : null;
      return renderVersion(scope, secret, await setVersionState(call.platform, version, state, etag, publicVersion));
    }),
});

export const secretManagerRoutes: Route[] = [
  {
    api: "secretmanager",
    method: "POST",
    path: path(SECRETS),
    methodName: `${M}CreateSecret`,
    body: createSecretRequest,
    mutates: true,
    handle: (call) =>
      inScope(call, (scope) => {
        const id = call.query.get("secretId");
        return auditAs({ resourceName: publicSecretName(scope, id ?? "") }, async () =>
          renderSecret(scope, await createSecret(call.platform, call.ctx, scope, id, call.body)),
        );
      }),
  },
  {
    api: "secretmanager",
    method: "GET",
    path: path(SECRETS),
    methodName: `${M}ListSecrets`,
    mutates: false,
    handle: (call) =>
      inScope(call, async (scope) => {
        const all = await listSecrets(call.platform, call.ctx, scope);
        const { items, nextPageToken } = page(all, call);
        return all.length === 0
          ? {}
          : {
              secrets: items.map((s) => renderSecret(scope, s)),
              totalSize: all.length,
              ...(nextPageToken ? { nextPageToken } : {}),
            };
      }),
  },
  {
    api: "secretmanager",
    method: "GET",
    path: path(SECRET),
    methodName: `${M}GetSecret`,
    mutates: false,
    handle: (call) => withSecret(call, "secretmanager.secrets.get", ({ scope, secret }) => renderSecret(scope, secret)),
  },
  {
    api: "secretmanager",
    method: "PATCH",
    path: path(SECRET),
    methodName: `${M}UpdateSecret`,
    body: updateSecretRequest,
    mutates: true,
    handle: (call) =>
      withSecret(call, "secretmanager.secrets.update", async ({ scope, secret }) =>
        renderSecret(scope, await updateSecret(call.platform, secret, call.body, call.query.get("updateMask"))),
      ),
  },
  {
    api: "secretmanager",
    method: "DELETE",
    path: path(SECRET),
    methodName: `${M}DeleteSecret`,
    mutates: true,
    handle: (call) =>
      withSecret(call, "secretmanager.secrets.delete", async ({ secret }) => {
        await deleteSecret(call.platform, secret, call.query.get("etag"));
        return {};
      }),
  },
  {
    api: "secretmanager",
    method: "POST",
    path: path(`${SECRET}:addVersion`),
    methodName: `${M}AddSecretVersion`,
    body: addSecretVersionRequest,
    mutates: true,
    handle: (call) =>
      withSecret(call, "secretmanager.versions.add", async ({ scope, secret }) => {
        const version = await addVersion(call.platform, secret, call.body["payload"]);
        return auditAs(
          { resourceName: `${publicSecretName(scope, secret.secretId)}/versions/${version.version}` },
          () => renderVersion(scope, secret, version),
        );
      }),
  },
  {
    api: "secretmanager",
    method: "GET",
    path: path(`${SECRET}/versions`),
    methodName: `${M}ListSecretVersions`,
    mutates: false,
    handle: (call) =>
      withSecret(call, "secretmanager.versions.list", async ({ scope, secret }) => {
        const all = await listVersions(call.platform, secret);
        const { items, nextPageToken } = page(all, call);
        return all.length === 0
          ? {}
          : {
              versions: items.map((v) => renderVersion(scope, secret, v)),
              totalSize: all.length,
              ...(nextPageToken ? { nextPageToken } : {}),
            };
      }),
  },
  {
    api: "secretmanager",
    method: "GET",
    path: path(VERSION),
    methodName: `${M}GetSecretVersion`,
    mutates: false,
    handle: (call) =>
      withVersion(call, "secretmanager.versions.get", ({ scope, secret, version }) =>
        renderVersion(scope, secret, version),
      ),
  },
  {
    api: "secretmanager",
    method: "GET",
    path: path(`${VERSION}:access`),
    methodName: `${M}AccessSecretVersion`,
    mutates: false,
    dataAccess: true,
    handle: (call) =>
      withVersion(call, "secretmanager.versions.access", ({ version, publicVersion }) =>
        auditAs({ resourceName: publicVersion }, () => {
          const data = openPayload(call.platform, version, publicVersion);
          return {
            name: publicVersion,
            payload: { data: data.toString("base64"), ...(version.crc32c ? { dataCrc32c: version.crc32c } : {}) },
          };
        }),
      ),
  },
  stateChange("disable"),
  stateChange("enable"),
  stateChange("destroy"),
  ...iamPolicyRoutes({
    api: "secretmanager",
    resourcePath: SECRET,
    methodPrefix: M,
    getMethods: ["GET", "POST"],
    permissions: { get: "secretmanager.secrets.getIamPolicy", set: "secretmanager.secrets.setIamPolicy" },
    withResource: (call, permission, work) => withSecret(call, permission, ({ secret }) => work(secret.resource)),
  }),
  {
    api: "secretmanager",
    method: "POST",
    path: path(`${SECRET}:testIamPermissions`),
    body: testIamPermissionsRequest,
    methodName: `${M}TestIamPermissions`,
    mutates: false,
    handle: (call) =>
      // "If the secret does not exist, this call returns an empty set of permissions, not a NOT_FOUND error."
      inScope(call, async (scope) => {
        const resource = secretResource(scope, call.params["secret"] ?? "");
        return (await call.platform.store.get("secret", resource))
          ? testIamPermissions(call.platform, call.ctx, resource, call.body)
          : {};
      }),
  },
];
