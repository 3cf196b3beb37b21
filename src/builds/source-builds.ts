// Builds from source, as Cloud Run's `builds:submit` starts them and Cloud Build reports them: the uploaded
// zip is unpacked into a private directory and built with the container engine (no network; a base image must
// be in the local store), tagged with the requested Artifact Registry name. A build runs in the background;
// its long-running operation is what the caller polls.
import { randomUUID } from "node:crypto";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { failedPrecondition, invalidArgument, notFound, unimplemented } from "../core/errors.js";
import { toRfc3339 } from "../core/clock.js";
import type { CallContext } from "../iam/call-context.js";
import { repositoryName } from "./repositories.js";
import { objectPath } from "./storage.js";
import { unzipInto } from "./zip.js";
import type { BuildsDeps, StoredBuild, StoredObject, StoredRepository } from "./types.js";

const BUILD_TYPE = "type.googleapis.com/google.devtools.cloudbuild.v1.Build";
const METADATA_TYPE = "type.googleapis.com/google.devtools.cloudbuild.v1.BuildOperationMetadata";
/** `REGION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE[:TAG]`, an Artifact Registry image name. */
const IMAGE_URI =
  /^(?<region>[a-z0-9-]+)-docker\.pkg\.dev\/(?<project>[a-z0-9.:-]+)\/(?<repository>[a-z0-9-]+)\/(?<image>[a-z0-9._/-]{1,200}?)(?::(?<tag>[\w][\w.-]{0,127}))?$/;
const TERMINAL = new Set(["SUCCESS", "FAILURE", "INTERNAL_ERROR"]);

export interface BuildScope {
  projectId: string;
  projectNumber: string;
  region: string;
}

export interface SubmitBuildInput {
  storageSource?: { bucket?: unknown; object?: unknown; generation?: unknown };
  imageUri?: unknown;
  dockerBuild?: unknown;
  buildpackBuild?: unknown;
  serviceAccount?: unknown;
  tags?: unknown;
}

export const buildName = (scope: BuildScope, id: string) =>
  `projects/${scope.projectId}/locations/${scope.region}/builds/${id}`;

/** The default build service account: the project's Compute Engine default one, as for new projects on Google. */
export function defaultBuildServiceAccount(ctx: CallContext, scope: BuildScope): string {
  ctx.authorize("cloudbuild.builds.get", `projects/${scope.projectId}`);
  return `projects/${scope.projectId}/serviceAccounts/${scope.projectNumber}-compute@developer.gserviceaccount.com`;
}

function imageOf(uri: unknown, scope: BuildScope) {
  const match = typeof uri === "string" ? IMAGE_URI.exec(uri) : null;
  const groups = match?.groups;
  if (!groups) {
    throw invalidArgument(
      `imageUri must name an Artifact Registry image, REGION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE: '${String(uri)}'`,
    );
  }
  if (groups["project"] !== scope.projectId && groups["project"] !== scope.projectNumber) {
    throw invalidArgument(`imageUri names project '${groups["project"]}', not '${scope.projectId}'.`);
  }
  return {
    tag: groups["tag"] ? (uri as string) : `${uri as string}:latest`,
    repository: repositoryName(scope.projectId, groups["region"] ?? "", groups["repository"] ?? ""),
  };
}

export async function submitBuild(
  deps: BuildsDeps,
  ctx: CallContext,
  scope: BuildScope,
  input: SubmitBuildInput,
): Promise<StoredBuild> {
  ctx.authorize("cloudbuild.builds.create", `projects/${scope.projectId}`);
  if (input.buildpackBuild !== undefined) {
    throw unimplemented("runguard builds from a Dockerfile only (buildpacks need the network): add a Dockerfile.");
  }
  if (input.dockerBuild === undefined) throw invalidArgument("One of dockerBuild or buildpackBuild is required.");
  const image = imageOf(input.imageUri, scope);
  if (!(await deps.store.get<StoredRepository>("repository", image.repository))) {
    throw failedPrecondition(`Repository ${image.repository} does not exist: create it first.`);
  }
  const source = input.storageSource ?? {};
  const bucket = typeof source.bucket === "string" ? source.bucket : "";
  const objectName = typeof source.object === "string" ? source.object : "";
  const object = await deps.store.get<StoredObject>("storageObject", `${bucket}/${objectName}`);
  const bucketProject = (await deps.store.get<{ projectId: string }>("bucket", bucket))?.projectId;
  if (!object || bucketProject !== scope.projectId) {
    throw notFound(`The source gs://${bucket}/${objectName} does not exist in project ${scope.projectId}.`);
  }
  if (source.generation !== undefined && String(source.generation) !== object.generation) {
    throw notFound(`The source gs://${bucket}/${objectName}#${String(source.generation)} does not exist.`);
  }
  const id = randomUUID();
  const build: StoredBuild = {
    name: buildName(scope, id),
    id,
    projectId: scope.projectId,
    region: scope.region,
    status: "QUEUED",
    image: image.tag,
    source: { bucket, object: objectName, generation: object.generation },
    tags: Array.isArray(input.tags) ? input.tags.filter((t): t is string => typeof t === "string").slice(0, 64) : [],
    serviceAccount:
      typeof input.serviceAccount === "string" && input.serviceAccount
        ? input.serviceAccount
        : defaultBuildServiceAccount(ctx, scope),
    createTime: toRfc3339(deps.clock.now()),
    logFile: join(deps.sourceBuilds.logsDir, `${id}.log`),
  };
  await deps.store.transact(async (tx) => tx.put("build", build.name, build));
  try {
    deps.sourceBuilds.enqueue(() => runBuild(deps, build, object));
  } catch (error) {
    await deps.store.transact(async (tx) => tx.delete("build", build.name));
    throw error;
  }
  return build;
}

async function updateBuild(deps: BuildsDeps, name: string, change: Partial<StoredBuild>): Promise<void> {
  await deps.store.transact(async (tx) => {
    const current = await tx.get<StoredBuild>("build", name);
    if (current) tx.put("build", name, { ...current, ...change });
  });
}

/** A build's log stops growing here (podman's output of a RUN step is the app's to choose). */
const MAX_LOG_BYTES = 1024 * 1024;

async function runBuild(deps: BuildsDeps, build: StoredBuild, source: StoredObject): Promise<void> {
  const zipPath = objectPath(deps, source);
  let logged = 0;
  const log = (line: string) => {
    if (logged > MAX_LOG_BYTES) return;
    const text = logged + line.length > MAX_LOG_BYTES ? "… (log truncated at 1 MiB)\n" : `${line}\n`;
    logged += line.length + 1;
    appendFileSync(build.logFile, text, { mode: 0o600 });
  };
  await updateBuild(deps, build.name, { status: "WORKING", startTime: toRfc3339(deps.clock.now()) });
  const work = mkdtempSync(join(deps.sourceBuilds.workDir, `${build.id}-`));
  try {
    const contextDir = join(work, "source");
    log(`Unpacking gs://${build.source.bucket}/${build.source.object}#${build.source.generation}`);
    unzipInto(zipPath, contextDir);
    log(`Building ${build.image} (podman build --pull=never --network=none)`);
    const built = await deps.sourceBuilds.builder.build({ contextDir, tag: build.image, onProgress: log });
    log(`DONE ${build.image}@${built.digest}`);
    await updateBuild(deps, build.name, {
      status: "SUCCESS",
      digest: built.digest,
      finishTime: toRfc3339(deps.clock.now()),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`ERROR ${message}`);
    await updateBuild(deps, build.name, {
      status: "FAILURE",
      statusDetail: message,
      finishTime: toRfc3339(deps.clock.now()),
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
    // The uploaded source has served its one purpose: kept, every deploy would add its size to the disk for good.
    await deps.store.transact(async (tx) => {
      const current = await tx.get<StoredObject>("storageObject", `${source.bucket}/${source.name}`);
      if (current?.file === source.file) tx.delete("storageObject", `${source.bucket}/${source.name}`);
    });
    rmSync(zipPath, { force: true });
  }
}

export async function getBuild(deps: BuildsDeps, ctx: CallContext, scope: BuildScope, id: string) {
  const name = buildName(scope, id);
  ctx.authorize("cloudbuild.builds.get", name);
  const build = await deps.store.get<StoredBuild>("build", name);
  if (!build) throw notFound(`Build ${name} not found.`);
  return build;
}

/** A build's long-running operation, named by the build's id as Cloud Build names it. */
export async function getBuildOperation(deps: BuildsDeps, ctx: CallContext, scope: BuildScope, id: string) {
  const name = buildName(scope, id);
  ctx.authorize("cloudbuild.operations.get", name);
  const build = await deps.store.get<StoredBuild>("build", name);
  if (!build)
    throw notFound(`Operation projects/${scope.projectId}/locations/${scope.region}/operations/${id} not found.`);
  return renderBuildOperation(build);
}

export function renderBuild(build: StoredBuild) {
  return {
    id: build.id,
    name: build.name,
    projectId: build.projectId,
    status: build.status,
    ...(build.statusDetail ? { statusDetail: build.statusDetail } : {}),
    source: {
      storageSource: { bucket: build.source.bucket, object: build.source.object, generation: build.source.generation },
    },
    steps: [
      {
        name: "podman",
        args: ["build", "--pull=never", "--network=none", "--tag", build.image, "."],
      },
    ],
    ...(build.digest ? { results: { images: [{ name: build.image, digest: build.digest }] } } : {}),
    images: [build.image],
    createTime: build.createTime,
    ...(build.startTime ? { startTime: build.startTime } : {}),
    ...(build.finishTime ? { finishTime: build.finishTime } : {}),
    // The build's output is on this machine: gcloud prints this where it would print the console's address.
    logUrl: `file://${build.logFile}`,
    tags: build.tags,
    serviceAccount: build.serviceAccount,
  };
}

export function renderBuildOperation(build: StoredBuild) {
  const rendered = renderBuild(build);
  const done = TERMINAL.has(build.status);
  return {
    name: `projects/${build.projectId}/locations/${build.region}/operations/${build.id}`,
    metadata: { "@type": METADATA_TYPE, build: rendered },
    done,
    ...(done && build.status === "SUCCESS" ? { response: { "@type": BUILD_TYPE, ...rendered } } : {}),
    // gcloud prints an operation's error message: the build's own reason, e.g. which base image is missing.
    ...(done && build.status !== "SUCCESS"
      ? { error: { code: 2, message: `Build failed: ${build.statusDetail ?? "see the build log"}` } }
      : {}),
  };
}
