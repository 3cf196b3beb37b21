// The directories and the queue that building from source keeps beside the store.
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ApiError } from "../core/errors.js";
import type { ImageBuilder, ResumableUpload, SourceBuildsRuntime } from "./types.js";

/** Builds run one or two at a time: each is a podman build, which uses a core or more. */
export const MAX_CONCURRENT_BUILDS = 2;
/** Builds waiting for a slot; past this a submission is refused rather than queued without bound. */
export const MAX_QUEUED_BUILDS = 16;

function privateDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
  return path;
}

export function createSourceBuildsRuntime(dataDir: string, builder: ImageBuilder): SourceBuildsRuntime {
  const storage = privateDir(join(dataDir, "storage"));
  const builds = privateDir(join(dataDir, "builds"));
  const uploadsDir = join(storage, "uploads");
  const workDir = join(builds, "work");
  // Uploads and build contexts a previous run left half done are of no use to anyone.
  rmSync(uploadsDir, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
  const queue: (() => Promise<void>)[] = [];
  const running = new Set<Promise<void>>();
  let closed = false;
  const next = () => {
    while (!closed && running.size < MAX_CONCURRENT_BUILDS && queue.length > 0) {
      const job = queue.shift() as () => Promise<void>;
      const run: Promise<void> = job()
        .catch(() => undefined)
        .finally(() => {
          running.delete(run);
          next();
        });
      running.add(run);
    }
  };
  return {
    objectsDir: privateDir(join(storage, "objects")),
    uploadsDir: privateDir(uploadsDir),
    workDir: privateDir(workDir),
    logsDir: privateDir(join(builds, "logs")),
    builder,
    uploads: new Map<string, ResumableUpload>(),
    enqueue(job) {
      if (queue.length >= MAX_QUEUED_BUILDS)
        throw new ApiError("RESOURCE_EXHAUSTED", `${MAX_QUEUED_BUILDS} builds are already waiting; try again later.`);
      queue.push(job);
      next();
    },
    async close() {
      closed = true;
      queue.length = 0;
      await Promise.allSettled([...running]);
    },
  };
}
