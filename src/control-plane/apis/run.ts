// Cloud Run Admin API as gcloud 528 uses it: Knative serving.knative.dev/v1 on the regional host for
// services and revisions, v1 "one platform" paths for IAM, the global list and locations.
import {
  createService,
  deleteService,
  getRevision,
  getService,
  listRevisions,
  listServices,
  replaceService,
  serviceResource,
  type RunScope,
} from "../../run/services.js";
import { renderRevision, renderService } from "../../run/render.js";
import type { StoredRevision, StoredService } from "../../run/types.js";
import { testIamPermissions } from "../../policies/policy-ops.js";
import { iamPolicyRoutes } from "./iam-policy-routes.js";
import { path, seg, type ApiCall, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";
import { inProject, projectOf } from "../call-project.js";
import { testIamPermissionsRequest } from "../wire/iam-policy.js";
import { knativeService } from "../wire/run.js";

const KN = `/apis/serving.knative.dev/v1/namespaces/${seg("namespace")}`;
const ONE = `/v1/projects/${seg("project")}/locations/${seg("region")}`;
const M1 = "google.cloud.run.v1.";

/** Runs `work` in the call's project (Knative's namespace) and region (the regional host's, or the default). */
function inScope(call: ApiCall, work: (scope: RunScope) => unknown) {
  const region = call.params["region"] ?? call.region ?? call.platform.config.region;
  return inProject(
    call,
    (project) => work({ projectId: project.projectId, projectNumber: project.projectNumber, region }),
    call.params["namespace"] ?? call.params["project"] ?? "",
  );
}

/** Runs `work` on the named service: the audit entry names it as Cloud Run's v1 API does. */
function onService(scope: RunScope, name: string, work: () => unknown) {
  const target = {
    resourceName: `namespaces/${scope.projectId}/services/${name}`,
    resource: {
      type: "cloud_run_revision",
      labels: {
        project_id: scope.projectId,
        service_name: name,
        location: scope.region,
        configuration_name: name,
        revision_name: "",
      },
    },
  };
  return auditAs(target, work);
}

function matchesSelector(revision: StoredRevision, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(",").every((clause) => {
    const [key, value] = clause.split("=").map((s) => s.trim());
    if (!key) return true;
    const labels: Record<string, string> = {
      ...(revision.template.metadata?.labels ?? {}),
      "serving.knative.dev/service": revision.service,
      "serving.knative.dev/configuration": revision.service,
    };
    return labels[key] === value;
  });
}

const list = (kind: string, items: unknown[]) => ({ apiVersion: "serving.knative.dev/v1", kind, metadata: {}, items });

export const runRoutes: Route[] = [
  {
    api: "run",
    method: "POST",
    path: path(`${KN}/services`),
    methodName: `${M1}Services.CreateService`,
    body: knativeService,
    mutates: true,
    handle: (call) =>
      inScope(call, (scope) =>
        onService(scope, String((call.body["metadata"] as { name?: unknown } | undefined)?.name ?? ""), async () =>
          renderService(await createService(call.platform, call.ctx, scope, call.body), scope.projectNumber),
        ),
      ),
  },
  {
    api: "run",
    method: "GET",
    path: path(`${KN}/services`),
    methodName: `${M1}Services.ListServices`,
    mutates: false,
    handle: (call) =>
      inScope(call, async (scope) => {
        const services = await listServices(call.platform, call.ctx, scope.projectId, scope.region);
        return list(
          "ServiceList",
          services.map((s) => renderService(s, scope.projectNumber)),
        );
      }),
  },
  {
    api: "run",
    method: "GET",
    path: path(`${KN}/services/${seg("service")}`),
    methodName: `${M1}Services.GetService`,
    mutates: false,
    handle: (call) =>
      inScope(call, async (scope) => {
        const service = await getService(call.platform, call.ctx, scope, call.params["service"] ?? "");
        return renderService(service, scope.projectNumber);
      }),
  },
  {
    api: "run",
    method: "PUT",
    path: path(`${KN}/services/${seg("service")}`),
    methodName: `${M1}Services.ReplaceService`,
    body: knativeService,
    mutates: true,
    handle: (call) =>
      inScope(call, (scope) => {
        const name = call.params["service"] ?? "";
        return onService(scope, name, async () =>
          renderService(await replaceService(call.platform, call.ctx, scope, name, call.body), scope.projectNumber),
        );
      }),
  },
  {
    api: "run",
    method: "DELETE",
    path: path(`${KN}/services/${seg("service")}`),
    methodName: `${M1}Services.DeleteService`,
    mutates: true,
    handle: (call) =>
      inScope(call, (scope) => {
        const name = call.params["service"] ?? "";
        return onService(scope, name, async () => {
          const deleted: StoredService = await deleteService(call.platform, call.ctx, scope, name);
          return {
            apiVersion: "v1",
            kind: "Status",
            status: "Success",
            details: { name, group: "serving.knative.dev", kind: "services", uid: deleted.uid },
            metadata: {},
          };
        });
      }),
  },
  {
    api: "run",
    method: "GET",
    path: path(`${KN}/revisions`),
    methodName: `${M1}Revisions.ListRevisions`,
    mutates: false,
    handle: (call) =>
      inScope(call, async (scope) => {
        const selector = call.query.get("labelSelector");
        const revisions = (await listRevisions(call.platform, call.ctx, scope)).filter((r) =>
          matchesSelector(r, selector),
        );
        return list(
          "RevisionList",
          revisions.map((r) => renderRevision(r, scope.projectNumber)),
        );
      }),
  },
  {
    api: "run",
    method: "GET",
    path: path(`${KN}/revisions/${seg("revision")}`),
    methodName: `${M1}Revisions.GetRevision`,
    mutates: false,
    handle: (call) =>
      inScope(call, async (scope) =>
        renderRevision(
          await getRevision(call.platform, call.ctx, scope, call.params["revision"] ?? ""),
          scope.projectNumber,
        ),
      ),
  },
  {
    api: "run",
    method: "GET",
    path: path(`/v1/projects/${seg("project")}/locations/-/services`),
    methodName: `${M1}Services.ListServices`,
    mutates: false,
    async handle(call) {
      const project = await projectOf(call);
      const services = await listServices(call.platform, call.ctx, project.projectId, "-");
      return {
        ...list(
          "ServiceList",
          services.map((s) => renderService(s, project.projectNumber)),
        ),
        unreachable: [],
      };
    },
  },
  {
    api: "run",
    method: "GET",
    path: path(`/v1/projects/${seg("project")}/locations`),
    methodName: "google.cloud.location.Locations.ListLocations",
    mutates: false,
    async handle(call) {
      const project = await projectOf(call);
      const region = call.platform.config.region;
      return {
        locations: [
          { name: `projects/${project.projectId}/locations/${region}`, locationId: region, displayName: region },
        ],
      };
    },
  },
  ...iamPolicyRoutes({
    api: "run",
    resourcePath: `${ONE}/services/${seg("service")}`,
    methodPrefix: `${M1}Services.`,
    getMethods: ["GET"],
    permissions: { get: "run.services.getIamPolicy", set: "run.services.setIamPolicy" },
    withResource: (call, permission, work) =>
      inScope(call, (scope) => {
        const name = call.params["service"] ?? "";
        return auditAs({ resourceName: serviceResource(scope, name) }, async () =>
          work((await getService(call.platform, call.ctx, scope, name, permission)).resource),
        );
      }),
  }),
  {
    api: "run",
    method: "POST",
    path: path(`${ONE}/services/${seg("service")}:testIamPermissions`),
    body: testIamPermissionsRequest,
    methodName: `${M1}Services.TestIamPermissions`,
    mutates: false,
    handle: (call) =>
      // Answered even for a service that does not exist yet: gcloud asks before creating one.
      inScope(call, (scope) =>
        testIamPermissions(call.platform, call.ctx, serviceResource(scope, call.params["service"] ?? ""), call.body),
      ),
  },
];
