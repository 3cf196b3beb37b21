// Artifact Registry repositories, as records only: the images a build makes stay in the local image store,
// named `REGION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE` as Artifact Registry would hold them.
import { alreadyExists, invalidArgument, notFound } from "../core/errors.js";
import { toRfc3339 } from "../core/clock.js";
import type { CallContext } from "../iam/call-context.js";
import type { BuildsDeps, StoredRepository } from "./types.js";

const REPOSITORY_ID = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const FORMATS = new Set(["DOCKER"]);

export const repositoryName = (projectId: string, region: string, id: string) =>
  `projects/${projectId}/locations/${region}/repositories/${id}`;

export async function getRepository(
  deps: BuildsDeps,
  ctx: CallContext,
  projectId: string,
  region: string,
  id: string,
): Promise<StoredRepository> {
  const name = repositoryName(projectId, region, id);
  ctx.authorize("artifactregistry.repositories.get", name);
  const repository = await deps.store.get<StoredRepository>("repository", name);
  if (!repository) throw notFound(`Requested entity was not found.`);
  return repository;
}

export async function createRepository(
  deps: BuildsDeps,
  ctx: CallContext,
  projectId: string,
  region: string,
  id: string | null,
  input: { format?: unknown; description?: unknown; mode?: unknown },
): Promise<StoredRepository> {
  if (!id || !REPOSITORY_ID.test(id)) throw invalidArgument(`Invalid repository id '${id ?? ""}'.`);
  const name = repositoryName(projectId, region, id);
  ctx.authorize("artifactregistry.repositories.create", `projects/${projectId}/locations/${region}`);
  const format = typeof input.format === "string" ? input.format : "";
  if (!FORMATS.has(format)) {
    throw invalidArgument(`runguard keeps DOCKER repositories only (its images are in the local image store).`);
  }
  const now = toRfc3339(deps.clock.now());
  const repository: StoredRepository = {
    name,
    projectId,
    format,
    mode: "STANDARD_REPOSITORY",
    ...(typeof input.description === "string" ? { description: input.description.slice(0, 2048) } : {}),
    createTime: now,
    updateTime: now,
  };
  await deps.store.transact(async (tx) => {
    if (await tx.get("repository", name)) throw alreadyExists(`the repository already exists`);
    tx.put("repository", name, repository);
  });
  return repository;
}

export function renderRepository(repository: StoredRepository) {
  return {
    name: repository.name,
    format: repository.format,
    mode: repository.mode,
    ...(repository.description ? { description: repository.description } : {}),
    createTime: repository.createTime,
    updateTime: repository.updateTime,
    sizeBytes: "0",
  };
}
