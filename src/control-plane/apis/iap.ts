// The IAP API's IAM policies (iap.googleapis.com/v1/projects/NUMBER/iap_web[...]:getIamPolicy|setIamPolicy), as
// `gcloud iap web add-iam-policy-binding` and `gcloud beta iap web ... --resource-type=cloud-run` call them:
// roles/iap.httpsResourceAccessor granted on all of IAP, on one backend service, or on one Cloud Run service.
import { notFound } from "../../core/errors.js";
import { requireBackendService } from "../../load-balancer/backend-services.js";
import { serviceIapResource } from "../../iap/direct-iap.js";
import type { Route } from "../route.js";
import { seg } from "../route.js";
import { auditAs } from "../audit-target.js";
import { inProject } from "../call-project.js";
import { iamPolicyRoutes } from "./iam-policy-routes.js";

const WEB = `/v1/projects/${seg("project")}/iap_web`;
const PREFIX = "google.cloud.iap.v1.IdentityAwareProxyAdminService.";
const webServices = { get: "iap.webServices.getIamPolicy", set: "iap.webServices.setIamPolicy" };

export const iapRoutes: Route[] = [
  ...iamPolicyRoutes({
    api: "iap",
    resourcePath: WEB,
    methodPrefix: PREFIX,
    getMethods: ["POST"],
    permissions: { get: "iap.web.getIamPolicy", set: "iap.web.setIamPolicy" },
    withResource: (call, _permission, work) =>
      inProject(call, (project) => {
        const resource = `projects/${project.projectId}/iap_web`;
        return auditAs({ resourceName: resource }, () => work(resource));
      }),
  }),
  ...iamPolicyRoutes({
    api: "iap",
    resourcePath: `${WEB}/compute/services/${seg("backend")}`,
    methodPrefix: PREFIX,
    getMethods: ["POST"],
    permissions: webServices,
    withResource: (call, permission, work) =>
      inProject(call, async (project) => {
        const backend = await requireBackendService(
          call.platform,
          call.ctx,
          project.projectId,
          call.params["backend"] ?? "",
          permission,
        );
        const resource = `projects/${project.projectId}/iap_web/compute/services/${backend.name}`;
        return auditAs({ resourceName: resource }, () => work(resource));
      }),
  }),
  ...iamPolicyRoutes({
    api: "iap",
    resourcePath: `${WEB}/cloud_run-${seg("region")}/services/${seg("service")}`,
    methodPrefix: PREFIX,
    getMethods: ["POST"],
    permissions: webServices,
    withResource: (call, permission, work) =>
      inProject(call, async (project) => {
        const region = call.params["region"] ?? "";
        const name = call.params["service"] ?? "";
        const resource = serviceIapResource(project.projectId, region, name);
        call.ctx.authorize(permission, resource);
        const service = await call.platform.store.get(
          "service",
          `projects/${project.projectId}/locations/${region}/services/${name}`,
        );
        if (!service)
          throw notFound(
            `Resource 'projects/${project.projectNumber}/iap_web/cloud_run-${region}/services/${name}' was not found.`,
          );
        return auditAs({ resourceName: resource }, () => work(resource));
      }),
  }),
];
