// Cloud Run Admin API v2 (run.googleapis.com/v2/projects/P/locations/R/services), as Google's client libraries
// (@google-cloud/run) call it: the same services as gcloud's Knative calls, in the v2 shape (wire/run-v2.ts).
// Mutations answer with a finished long-running operation, which can also be fetched again.
import { randomUUID } from "node:crypto";
import {
  createService,
  deleteService,
  getService,
  listServices,
  replaceService,
  serviceResource,
  type RunScope,
} from "../../run/services.js";
import { knativeInputOf, renderV2Service, type V2Service } from "../wire/run-v2.js";
import type { StoredService } from "../../run/types.js";
import { invalidArgument, notFound } from "../../core/errors.js";
import { testIamPermissions } from "../../policies/policy-ops.js";
import { iamPolicyRoutes } from "./iam-policy-routes.js";
import { path, seg, type ApiCall, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";
import { inProject } from "../call-project.js";
import { testIamPermissionsRequest } from "../wire/iam-policy.js";
import { v2Service } from "../wire/run.js";

const LOC = `/v2/projects/${seg("project")}/locations/${seg("region")}`;
const M2 = "google.cloud.run.v2.Services.";
const SERVICE_TYPE = "type.googleapis.com/google.cloud.run.v2.Service";

/** Runs `work` in the call's project and location. */
function inScope(call: ApiCall, work: (scope: RunScope) => unknown) {
  return inProject(call, (project) =>
    work({ projectId: project.projectId, projectNumber: project.projectNumber, region: call.params["region"] ?? "" }),
  );
}

/** Runs `work` on the named service: the audit entry names it by its v2 resource name. */
function onService(scope: RunScope, name: string, work: () => unknown) {
  const target = {
    resourceName: serviceResource(scope, name),
    resource: {
      type: "cloud_run_revision",
      labels: { project_id: scope.projectId, service_name: name, location: scope.region },
    },
  };
  return auditAs(target, work);
}

/** A finished operation whose response (and metadata, as Cloud Run sends it) is the service. */
async function finishedOperation(call: ApiCall, scope: RunScope, service: StoredService) {
  const rendered = { "@type": SERVICE_TYPE, ...renderV2Service(service, scope.projectNumber) };
  const operation = {
    name: `projects/${scope.projectId}/locations/${scope.region}/operations/${randomUUID()}`,
    metadata: rendered,
    done: true,
    response: rendered,
  };
  await call.platform.store.transact(async (tx) => tx.put("setting", operation.name, operation));
  return operation;
}

const serviceName = (call: ApiCall) => call.params["service"] ?? "";

export const runV2Routes: Route[] = [
  {
    api: "run",
    method: "POST",
    path: path(`${LOC}/services`),
    methodName: `${M2}CreateService`,
    body: v2Service,
    mutates: true,
    handle: (call) =>
      inScope(call, (scope) => {
        const name = call.query.get("serviceId") ?? "";
        if (!name) throw invalidArgument("serviceId is required.");
        return onService(scope, name, async () => {
          const input = knativeInputOf(name, call.body as V2Service);
          return finishedOperation(call, scope, await createService(call.platform, call.ctx, scope, input));
        });
      }),
  },
  {
    api: "run",
    method: "GET",
    path: path(`${LOC}/services`),
    methodName: `${M2}ListServices`,
    mutates: false,
    handle: (call) =>
      inScope(call, async (scope) => {
        const services = await listServices(call.platform, call.ctx, scope.projectId, scope.region);
        return { services: services.map((s) => renderV2Service(s, scope.projectNumber)) };
      }),
  },
  {
    api: "run",
    method: "GET",
    path: path(`${LOC}/services/${seg("service")}`),
    methodName: `${M2}GetService`,
    mutates: false,
    handle: (call) =>
      inScope(call, async (scope) =>
        renderV2Service(await getService(call.platform, call.ctx, scope, serviceName(call)), scope.projectNumber),
      ),
  },
  {
    api: "run",
    method: "PATCH",
    path: path(`${LOC}/services/${seg("service")}`),
    methodName: `${M2}UpdateService`,
    body: v2Service,
    mutates: true,
    handle: (call) =>
      inScope(call, (scope) => {
        const name = serviceName(call);
        return onService(scope, name, async () => {
          const input = knativeInputOf(name, call.body as V2Service);
          return finishedOperation(call, scope, await replaceService(call.platform, call.ctx, scope, name, input));
        });
      }),
  },
  {
    api: "run",
    method: "DELETE",
    path: path(`${LOC}/services/${seg("service")}`),
    methodName: `${M2}DeleteService`,
    mutates: true,
    handle: (call) =>
      inScope(call, (scope) =>
        onService(scope, serviceName(call), async () =>
          finishedOperation(call, scope, await deleteService(call.platform, call.ctx, scope, serviceName(call))),
        ),
      ),
  },
  {
    api: "run",
    method: "GET",
    path: path(`${LOC}/operations/${seg("operation")}`),
    methodName: "google.longrunning.Operations.GetOperation",
    mutates: false,
    handle: (call) =>
      inScope(call, async (scope) => {
        call.ctx.authorize("run.operations.get", `projects/${scope.projectId}`);
        const name = `projects/${scope.projectId}/locations/${scope.region}/operations/${call.params["operation"] ?? ""}`;
        const operation = await call.platform.store.get("setting", name);
        if (!operation) throw notFound(`Operation ${name} not found.`);
        return operation;
      }),
  },
  ...iamPolicyRoutes({
    api: "run",
    resourcePath: `${LOC}/services/${seg("service")}`,
    methodPrefix: M2,
    getMethods: ["GET"],
    permissions: { get: "run.services.getIamPolicy", set: "run.services.setIamPolicy" },
    withResource: (call, permission, work) =>
      inScope(call, (scope) =>
        onService(scope, serviceName(call), async () =>
          work((await getService(call.platform, call.ctx, scope, serviceName(call), permission)).resource),
        ),
      ),
  }),
  {
    api: "run",
    method: "POST",
    path: path(`${LOC}/services/${seg("service")}:testIamPermissions`),
    body: testIamPermissionsRequest,
    methodName: `${M2}TestIamPermissions`,
    mutates: false,
    handle: (call) =>
      inScope(call, (scope) =>
        testIamPermissions(call.platform, call.ctx, serviceResource(scope, serviceName(call)), call.body),
      ),
  },
];
