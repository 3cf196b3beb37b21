// Service Usage: every emulated API is enabled; generateServiceIdentity creates service agents (e.g. IAP's).
import { notFound } from "../../core/errors.js";
import type { Project } from "../../accounts/projects.js";
import { ensureServiceAgent } from "../../accounts/service-agents.js";
import { path, seg, type ApiCall, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";
import { projectOf } from "../call-project.js";
import { batchEnableServicesRequest } from "../wire/runguard.js";

const SERVICES = new Set([
  "run.googleapis.com",
  "iam.googleapis.com",
  "iamcredentials.googleapis.com",
  "secretmanager.googleapis.com",
  "cloudresourcemanager.googleapis.com",
  "compute.googleapis.com",
  "vpcaccess.googleapis.com",
  "iap.googleapis.com",
  "serviceusage.googleapis.com",
  "logging.googleapis.com",
  "artifactregistry.googleapis.com",
  "cloudbuild.googleapis.com",
  "storage.googleapis.com",
]);

/** Runs `work` in the call's project once `permission` on it is granted; audited against the named service. */
async function inProjectServices(call: ApiCall, permission: string, work: (found: Project) => unknown) {
  const found = await projectOf(call);
  const target = {
    projectId: found.projectId,
    resourceName: `projects/${found.projectNumber}/services/${call.params["service"] ?? ""}`,
  };
  return auditAs(target, () => {
    call.ctx.authorize(permission, `projects/${found.projectId}`);
    const service = call.params["service"];
    if (service !== undefined && !SERVICES.has(service)) {
      throw notFound(`Service ${service} is not emulated by runguard.`);
    }
    return work(found);
  });
}

export const serviceUsageRoutes: Route[] = [
  {
    api: "serviceusage",
    method: "GET",
    path: path(`/v1/projects/${seg("project")}/services/${seg("service")}`),
    methodName: "google.api.serviceusage.v1.ServiceUsage.GetService",
    mutates: false,
    handle: (call) =>
      inProjectServices(call, "serviceusage.services.get", (found) => {
        const service = call.params["service"] ?? "";
        return {
          name: `projects/${found.projectNumber}/services/${service}`,
          config: { name: service },
          state: "ENABLED",
          parent: `projects/${found.projectNumber}`,
        };
      }),
  },
  {
    api: "serviceusage",
    method: "POST",
    path: path(`/v1/projects/${seg("project")}/services/${seg("service")}:enable`),
    methodName: "google.api.serviceusage.v1.ServiceUsage.EnableService",
    mutates: true,
    handle: (call) =>
      inProjectServices(call, "serviceusage.services.enable", () => ({
        name: "operations/noop.DONE_OPERATION",
        done: true,
        response: {},
      })),
  },
  {
    api: "serviceusage",
    method: "POST",
    path: path(`/v1/projects/${seg("project")}/services:batchEnable`),
    methodName: "google.api.serviceusage.v1.ServiceUsage.BatchEnableServices",
    body: batchEnableServicesRequest,
    mutates: true,
    handle: (call) =>
      inProjectServices(call, "serviceusage.services.enable", () => ({
        name: "operations/noop.DONE_OPERATION",
        done: true,
        response: {},
      })),
  },
  {
    api: "serviceusage",
    method: "GET",
    path: path(`/v1/operations/${seg("operation")}`),
    methodName: "google.longrunning.Operations.GetOperation",
    mutates: false,
    handle: async (call) => ({ name: `operations/${call.params["operation"]}`, done: true, response: {} }),
  },
  {
    api: "serviceusage",
    method: "POST",
    path: path(`/v1beta1/projects/${seg("project")}/services/${seg("service")}:generateServiceIdentity`),
    methodName: "google.api.serviceusage.v1beta1.ServiceUsage.GenerateServiceIdentity",
    mutates: true,
    handle: (call) =>
      // The public role dumps list no permission for this method; enabling services is the closest, and owners hold it.
      inProjectServices(call, "serviceusage.services.enable", async (found) => {
        const agent = await ensureServiceAgent(call.platform, found, call.params["service"] ?? "");
        // gcloud reads the identity from a finished operation and never polls.
        return {
          name: "operations/finished.DONE_OPERATION",
          done: true,
          response: {
            "@type": "type.googleapis.com/google.api.serviceusage.v1beta1.ServiceIdentity",
            email: agent.email,
            uniqueId: agent.uniqueId,
          },
        };
      }),
  },
];
