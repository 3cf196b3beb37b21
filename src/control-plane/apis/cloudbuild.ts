// Cloud Build v1, as much as `gcloud run deploy --source` uses: the default build service account, and the
// build's long-running operation it polls (and the build itself, for `gcloud builds describe`).
import { defaultBuildServiceAccount, getBuild, getBuildOperation, renderBuild } from "../../builds/source-builds.js";
import type { Project } from "../../accounts/projects.js";
import { path, seg, type ApiCall, type Route } from "../route.js";
import { inProject } from "../call-project.js";

const L = `/v1/projects/${seg("project")}/locations/${seg("region")}`;
const M = "google.devtools.cloudbuild.v1.CloudBuild.";

const scopeOf = (call: ApiCall, project: Project) => ({
  projectId: project.projectId,
  projectNumber: project.projectNumber,
  region: call.params["region"] ?? "",
});

export const cloudBuildRoutes: Route[] = [
  {
    api: "cloudbuild",
    method: "GET",
    path: path(`${L}/defaultServiceAccount`),
    methodName: `${M}GetDefaultServiceAccount`,
    mutates: false,
    handle: (call) =>
      inProject(call, (project) => {
        const scope = scopeOf(call, project);
        return {
          name: `projects/${project.projectId}/locations/${scope.region}/defaultServiceAccount`,
          serviceAccountEmail: defaultBuildServiceAccount(call.ctx, scope),
        };
      }),
  },
  {
    api: "cloudbuild",
    method: "GET",
    path: path(`${L}/operations/${seg("operation")}`),
    methodName: "google.longrunning.Operations.GetOperation",
    mutates: false,
    handle: (call) =>
      inProject(call, (project) =>
        getBuildOperation(call.platform, call.ctx, scopeOf(call, project), call.params["operation"] ?? ""),
      ),
  },
  {
    api: "cloudbuild",
    method: "GET",
    path: path(`${L}/builds/${seg("build")}`),
    methodName: `${M}GetBuild`,
    mutates: false,
    handle: (call) =>
      inProject(call, async (project) =>
        renderBuild(await getBuild(call.platform, call.ctx, scopeOf(call, project), call.params["build"] ?? "")),
      ),
  },
];
