// What building from source keeps: Artifact Registry repositories, Cloud Storage buckets and objects (the
// uploaded source), and builds; and the port through which a build reaches the container engine.
import type { Clock } from "../core/clock.js";
import type { Store } from "../store/store.js";

export interface StoredRepository {
  /** projects/P/locations/R/repositories/ID */
  name: string;
  projectId: string;
  format: string;
  mode: string;
  description?: string;
  createTime: string;
  updateTime: string;
}

export interface StoredBucket {
  name: string;
  projectId: string;
  projectNumber: string;
  /** Upper case, as Cloud Storage answers: US-CENTRAL1. */
  location: string;
  timeCreated: string;
  uniformBucketLevelAccess: boolean;
}

export interface StoredObject {
  bucket: string;
  name: string;
  generation: string;
  size: number;
  contentType: string;
  md5Hash: string;
  timeCreated: string;
  /** The object's bytes: a file name under the objects directory. */
  file: string;
}

export type BuildStatus = "QUEUED" | "WORKING" | "SUCCESS" | "FAILURE" | "INTERNAL_ERROR";

export interface StoredBuild {
  /** projects/P/locations/R/builds/ID */
  name: string;
  id: string;
  projectId: string;
  region: string;
  status: BuildStatus;
  statusDetail?: string;
  /** The image reference built (imageUri), and its digest once built. */
  image: string;
  digest?: string;
  source: { bucket: string; object: string; generation: string };
  tags: string[];
  serviceAccount: string;
  createTime: string;
  startTime?: string;
  finishTime?: string;
  /** Where the build's output is written on this machine. */
  logFile: string;
}

export interface BuildRequest {
  contextDir: string;
  tag: string;
  onProgress?: (line: string) => void;
}

/** The container engine as a build sees it (app/ gives podman's, or one that explains why it cannot build). */
export interface ImageBuilder {
  build(request: BuildRequest): Promise<{ digest: string }>;
}

/** What this folder's operations use. */
export interface BuildsDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly sourceBuilds: SourceBuildsRuntime;
}

/** State beside the store: where bytes live, the resumable uploads in progress, and the build queue. */
export interface SourceBuildsRuntime {
  /** Owner-only directories under the data directory. */
  readonly objectsDir: string;
  readonly uploadsDir: string;
  readonly workDir: string;
  readonly logsDir: string;
  readonly builder: ImageBuilder;
  readonly uploads: Map<string, ResumableUpload>;
  /** Runs `job` when a build slot is free (at most `maxConcurrentBuilds` at once). */
  enqueue(job: () => Promise<void>): void;
  /** Waits for running builds (queued ones are dropped). */
  close(): Promise<void>;
}

export interface ResumableUpload {
  id: string;
  bucket: string;
  name: string;
  projectId: string;
  /** Who started it: only they may continue it. */
  principal: string;
  contentType: string;
  /** Declared with X-Upload-Content-Length, if it was. */
  totalSize?: number;
  received: number;
  file: string;
  createdMs: number;
}
