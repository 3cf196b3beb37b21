// Artifact Registry v1: repositories, as `gcloud run deploy --source` checks and creates
// `cloud-run-source-deploy`. Creation is a long-running operation that is already done.
import { randomUUID } from "node:crypto";
import { notFound } from "../../core/errors.js";
import { createRepository, getRepository, renderRepository, repositoryName } from "../../builds/repositories.js";
import { path, seg, type ApiCall, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";
import { inProject } from "../call-project.js";

const L = `/v1/projects/${seg("project")}/locations/${seg("region")}`;
const M = "google.devtools.artifactregistry.v1.ArtifactRegistry.";
const REPOSITORY_TYPE = "type.googleapis.com/google.devtools.artifactregistry.v1.Repository";

const region = (call: ApiCall) => call.params["region"] ?? "";

export const artifactRegistryRoutes: Route[] = [
  {
    api: "artifactregistry",
    method: "GET",
    path: path(`${L}/repositories/${seg("repository")}`),
    methodName: `${M}GetRepository`,
    mutates: false,
    handle: (call) =>
      inProject(call, async ({ projectId }) =>
        renderRepository(
          await getRepository(call.platform, call.ctx, projectId, region(call), call.params["repository"] ?? ""),
        ),
      ),
  },
  {
    api: "artifactregistry",
    method: "POST",
    path: path(`${L}/repositories`),
    methodName: `${M}CreateRepository`,
    mutates: true,
    handle: (call) =>
      inProject(call, async ({ projectId }) => {
        const id = call.query.get("repositoryId");
        return auditAs({ resourceName: repositoryName(projectId, region(call), id ?? "") }, async () => {
          const repository = await createRepository(call.platform, call.ctx, projectId, region(call), id, call.body);
          const operation = {
            name: `projects/${projectId}/locations/${region(call)}/operations/${randomUUID()}`,
            metadata: { "@type": "type.googleapis.com/google.devtools.artifactregistry.v1.OperationMetadata" },
            done: true,
            response: { "@type": REPOSITORY_TYPE, ...renderRepository(repository) },
          };
          await call.platform.store.transact(async (tx) =>
            tx.put("setting", `artifactregistry/${operation.name}`, operation),
          );
          return operation;
        });
      }),
  },
  {
    api: "artifactregistry",
    method: "GET",
    path: path(`${L}/operations/${seg("operation")}`),
    methodName: "google.longrunning.Operations.GetOperation",
    mutates: false,
    handle: (call) =>
      inProject(call, async ({ projectId }) => {
        call.ctx.authorize("artifactregistry.repositories.get", `projects/${projectId}`);
        const name = `projects/${projectId}/locations/${region(call)}/operations/${call.params["operation"] ?? ""}`;
        const operation = await call.platform.store.get("setting", `artifactregistry/${name}`);
        if (!operation) throw notFound(`Operation ${name} not found.`);
        return operation;
      }),
  },
];
