// Cloud Run Admin API v2 `builds:submit`: the build `gcloud run deploy --source` asks for, answered with the
// Cloud Build operation it then polls (cloudbuild.ts).
import { renderBuildOperation, submitBuild, type SubmitBuildInput } from "../../builds/source-builds.js";
import { path, seg, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";
import { inProject } from "../call-project.js";

const LOC = `/v2/projects/${seg("project")}/locations/${seg("region")}`;

export const runBuildRoutes: Route[] = [
  {
    api: "run",
    method: "POST",
    path: path(`${LOC}/builds:submit`),
    methodName: "google.cloud.run.v2.Builds.SubmitBuild",
    mutates: true,
    handle: (call) =>
      inProject(call, async (project) => {
        const scope = {
          projectId: project.projectId,
          projectNumber: project.projectNumber,
          region: call.params["region"] ?? "",
        };
        const build = await submitBuild(call.platform, call.ctx, scope, call.body as SubmitBuildInput);
        return auditAs({ resourceName: build.name }, () => {
          const { name, metadata } = renderBuildOperation(build);
          return { buildOperation: { name, metadata } };
        });
      }),
  },
];
