// Cloud Resource Manager v1 (and v3 get): projects and their IAM policies.
import { ApiError } from "../../core/errors.js";
import { findProject, listProjects, projectResource, type Project } from "../../accounts/projects.js";
import { getIamPolicy, setIamPolicy, testIamPermissions } from "../../policies/policy-ops.js";
import { path, seg, type ApiCall, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";
import { getIamPolicyRequest, setIamPolicyRequest, testIamPermissionsRequest } from "../wire/iam-policy.js";

const M = "google.cloudresourcemanager.v1.Projects.";

function publicProject(project: Project) {
  return {
    projectNumber: project.projectNumber,
    projectId: project.projectId,
    lifecycleState: project.lifecycleState,
    name: project.name,
    createTime: project.createTime,
  };
}

/**
 * Runs `work` on the project the call names, once `permission` on it is granted; audited against the project.
 * Google answers 403 for a project that does not exist, so as not to reveal which ids are taken.
 */
async function withProject(call: ApiCall, permission: string, work: (found: Project) => unknown) {
  const id = call.params["project"] ?? "";
  const found = await findProject(call.platform, id);
  const resource = projectResource(found?.projectId ?? id);
  const target = {
    resourceName: resource,
    projectId: found?.projectId ?? call.platform.config.projectId,
    resource: { type: "project", labels: { project_id: found?.projectId ?? id } },
  };
  return auditAs(target, () => {
    if (!found || !call.ctx.holds(permission, resource)) {
      throw new ApiError("PERMISSION_DENIED", "The caller does not have permission", [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "IAM_PERMISSION_DENIED",
          domain: "cloudresourcemanager.googleapis.com",
          metadata: { permission, resource },
        },
      ]);
    }
    return work(found);
  });
}

export const resourceManagerRoutes: Route[] = [
  {
    api: "cloudresourcemanager",
    method: "GET",
    path: path(`/v[13]/projects/${seg("project")}`),
    methodName: `${M}GetProject`,
    mutates: false,
    handle: (call) => withProject(call, "resourcemanager.projects.get", publicProject),
  },
  {
    api: "cloudresourcemanager",
    method: "GET",
    path: path(`/v1/projects`),
    methodName: `${M}ListProjects`,
    mutates: false,
    async handle(call) {
      const visible = (await listProjects(call.platform)).filter(
        (p) =>
          call.platform.engine.decide(call.ctx.principal, "resourcemanager.projects.get", projectResource(p.projectId))
            .allowed,
      );
      return { projects: visible.map(publicProject) };
    },
  },
  {
    api: "cloudresourcemanager",
    method: "POST",
    path: path(`/v1/projects/${seg("project")}:getIamPolicy`),
    body: getIamPolicyRequest,
    methodName: `${M}GetIamPolicy`,
    mutates: false,
    handle: (call) =>
      withProject(call, "resourcemanager.projects.getIamPolicy", (found) => {
        const options = call.body["options"] as { requestedPolicyVersion?: unknown } | undefined;
        return getIamPolicy(
          call.platform,
          call.ctx,
          projectResource(found.projectId),
          { permission: "resourcemanager.projects.getIamPolicy" },
          options?.requestedPolicyVersion,
        );
      }),
  },
  {
    api: "cloudresourcemanager",
    method: "POST",
    path: path(`/v1/projects/${seg("project")}:setIamPolicy`),
    body: setIamPolicyRequest,
    methodName: `${M}SetIamPolicy`,
    mutates: true,
    handle: (call) =>
      withProject(call, "resourcemanager.projects.setIamPolicy", (found) =>
        setIamPolicy(call.platform, call.ctx, projectResource(found.projectId), call.body, {
          permission: "resourcemanager.projects.setIamPolicy",
        }),
      ),
  },
  {
    api: "cloudresourcemanager",
    method: "POST",
    path: path(`/v1/projects/${seg("project")}:testIamPermissions`),
    body: testIamPermissionsRequest,
    methodName: `${M}TestIamPermissions`,
    mutates: false,
    async handle(call) {
      const found = await findProject(call.platform, call.params["project"] ?? "");
      return found ? testIamPermissions(call.platform, call.ctx, projectResource(found.projectId), call.body) : {};
    },
  },
];
