// Cloud Storage, as much as a source deploy needs: buckets (get, create, list) and object uploads, multipart
// and resumable, as apitools sends them. An object's bytes are a file under the data directory, owner-only.
// A bucket's IAM policy is Cloud Storage's default: project owners and editors hold
// roles/storage.legacyBucketOwner on it and viewers roles/storage.legacyBucketReader (convenience members), so
// who may use a bucket follows the project's basic roles as on Google.
import { createHash, randomBytes } from "node:crypto";
import { open, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { ApiError, invalidArgument, notFound } from "../core/errors.js";
import { toRfc3339 } from "../core/clock.js";
import { policyEtag } from "../core/ids.js";
import type { CallContext } from "../iam/call-context.js";
import { principalKey } from "../iam/candidates.js";
import type { Policy } from "../iam/types.js";
import type { BuildsDeps, ResumableUpload, StoredBucket, StoredObject } from "./types.js";

/** The largest object runguard stores (a source archive, in practice). */
export const MAX_OBJECT_BYTES = 512 * 1024 * 1024;
/** A multipart upload is held in memory while it is parsed; apitools sends only small files this way (< 5 MiB). */
export const MAX_MULTIPART_BYTES = 64 * 1024 * 1024;
const MAX_METADATA_BYTES = 1024 * 1024;
const MAX_OPEN_UPLOADS = 32;
const UPLOAD_LIFETIME_MS = 24 * 3600_000;

const BUCKET_NAME = /^[a-z0-9][a-z0-9_.-]{1,220}[a-z0-9]$/;

/** The resource IAM decides on: a bucket is a child of its project. */
export const bucketIamResource = (bucket: Pick<StoredBucket, "projectId" | "name">) =>
  `projects/${bucket.projectId}/buckets/${bucket.name}`;
/** The name Cloud Storage shows in errors and audit entries. */
export const bucketShownAs = (name: string) => `projects/_/buckets/${name}`;

function defaultBucketPolicy(projectId: string): Policy {
  return {
    version: 1,
    etag: policyEtag(),
    bindings: [
      {
        role: "roles/storage.legacyBucketOwner",
        members: [`projectEditor:${projectId}`, `projectOwner:${projectId}`],
      },
      { role: "roles/storage.legacyBucketReader", members: [`projectViewer:${projectId}`] },
    ],
  };
}

function authorizeOnBucket(ctx: CallContext, permission: string, bucket: StoredBucket): void {
  ctx.authorize(permission, bucketIamResource(bucket), bucketShownAs(bucket.name));
}

const bucketNotFound = (name: string) => notFound(`The specified bucket does not exist: ${name}`);

async function existingBucket(deps: BuildsDeps, name: string): Promise<StoredBucket> {
  const bucket = await deps.store.get<StoredBucket>("bucket", name);
  if (!bucket) throw bucketNotFound(name);
  return bucket;
}

/** The project a bucket belongs to, if it exists (what its audit entries name). */
export async function bucketProject(deps: BuildsDeps, name: string): Promise<string | undefined> {
  return (await deps.store.get<StoredBucket>("bucket", name))?.projectId;
}

export async function getBucket(deps: BuildsDeps, ctx: CallContext, name: string): Promise<StoredBucket> {
  const bucket = await existingBucket(deps, name);
  authorizeOnBucket(ctx, "storage.buckets.get", bucket);
  return bucket;
}

export interface BucketInput {
  name?: unknown;
  location?: unknown;
  iamConfiguration?: { uniformBucketLevelAccess?: { enabled?: unknown } };
}

export async function createBucket(
  deps: BuildsDeps,
  ctx: CallContext,
  project: { projectId: string; projectNumber: string },
  input: BucketInput,
): Promise<StoredBucket> {
  ctx.authorize("storage.buckets.create", `projects/${project.projectId}`);
  const name = typeof input.name === "string" ? input.name : "";
  if (!BUCKET_NAME.test(name) || name.includes("..") || name.startsWith("goog") || name.includes("google")) {
    throw invalidArgument(`Invalid bucket name: '${name}'`);
  }
  const location = typeof input.location === "string" && input.location ? input.location.toUpperCase() : "US";
  if (!/^[A-Z0-9-]{2,40}$/.test(location)) throw invalidArgument(`Invalid location: '${location}'`);
  const bucket: StoredBucket = {
    name,
    projectId: project.projectId,
    projectNumber: project.projectNumber,
    location,
    timeCreated: toRfc3339(deps.clock.now()),
    uniformBucketLevelAccess: input.iamConfiguration?.uniformBucketLevelAccess?.enabled === true,
  };
  await deps.store.transact(async (tx) => {
    const existing = await tx.get<StoredBucket>("bucket", name);
    if (existing) {
      throw new ApiError(
        "ALREADY_EXISTS",
        existing.projectId === project.projectId
          ? "Your previous request to create the named bucket succeeded and you already own it."
          : "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
      );
    }
    tx.put("bucket", name, bucket);
    const resource = bucketIamResource(bucket);
    tx.put("policy", resource, { resource, policy: defaultBucketPolicy(project.projectId) });
  });
  return bucket;
}

export async function listBuckets(
  deps: BuildsDeps,
  ctx: CallContext,
  projectId: string,
  prefix: string,
): Promise<StoredBucket[]> {
  ctx.authorize("storage.buckets.list", `projects/${projectId}`);
  const all = await deps.store.list<StoredBucket>("bucket", prefix);
  return all.filter((bucket) => bucket.projectId === projectId);
}

export function renderBucket(bucket: StoredBucket) {
  return {
    kind: "storage#bucket",
    id: bucket.name,
    selfLink: `https://www.googleapis.com/storage/v1/b/${bucket.name}`,
    name: bucket.name,
    projectNumber: bucket.projectNumber,
    metageneration: "1",
    location: bucket.location,
    locationType: bucket.location.includes("-") ? "region" : "multi-region",
    storageClass: "STANDARD",
    etag: "CAE=",
    timeCreated: bucket.timeCreated,
    updated: bucket.timeCreated,
    iamConfiguration: {
      uniformBucketLevelAccess: { enabled: bucket.uniformBucketLevelAccess },
      publicAccessPrevention: "inherited",
    },
  };
}

export function renderObject(object: StoredObject) {
  return {
    kind: "storage#object",
    id: `${object.bucket}/${object.name}/${object.generation}`,
    selfLink: `https://www.googleapis.com/storage/v1/b/${object.bucket}/o/${encodeURIComponent(object.name)}`,
    name: object.name,
    bucket: object.bucket,
    generation: object.generation,
    metageneration: "1",
    contentType: object.contentType,
    storageClass: "STANDARD",
    size: String(object.size),
    md5Hash: object.md5Hash,
    timeCreated: object.timeCreated,
    updated: object.timeCreated,
    timeStorageClassUpdated: object.timeCreated,
    etag: "CAE=",
  };
}

export async function getObject(
  deps: BuildsDeps,
  ctx: CallContext,
  bucketName: string,
  name: string,
): Promise<StoredObject> {
  const bucket = await existingBucket(deps, bucketName);
  ctx.authorize("storage.objects.get", bucketIamResource(bucket), bucketShownAs(bucket.name));
  const object = await deps.store.get<StoredObject>("storageObject", `${bucketName}/${name}`);
  if (!object) throw notFound(`No such object: ${bucketName}/${name}`);
  return object;
}

function validObjectName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0) throw invalidArgument("Required: the object's name.");
  if (Buffer.byteLength(name) > 1024 || /[\r\n]/.test(name) || name === "." || name === "..") {
    throw invalidArgument(`Invalid object name: '${name.slice(0, 100)}'`);
  }
  return name;
}

/** The bucket an upload goes into, once the caller may create objects in it. */
async function bucketForUpload(deps: BuildsDeps, ctx: CallContext, bucketName: string): Promise<StoredBucket> {
  const bucket = await existingBucket(deps, bucketName);
  ctx.authorize("storage.objects.create", bucketIamResource(bucket), bucketShownAs(bucket.name));
  return bucket;
}

const tooLarge = (limit: number) =>
  new ApiError("INVALID_ARGUMENT", `The object is larger than runguard stores (${limit} bytes).`);

/** Appends `body` to `file`, at most `maxBytes` in all; the number of bytes it held. */
async function appendBody(body: AsyncIterable<Uint8Array>, file: string, already: number, maxBytes: number) {
  const handle = await open(file, "a", 0o600);
  let size = already;
  try {
    for await (const chunk of body) {
      size += chunk.length;
      if (size > maxBytes) throw tooLarge(maxBytes);
      await handle.write(chunk);
    }
  } finally {
    await handle.close();
  }
  return size;
}

async function readAll(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function md5Of(file: string): Promise<string> {
  const hash = createHash("md5");
  const handle = await open(file, "r");
  try {
    for await (const chunk of handle.createReadStream()) hash.update(chunk as Buffer);
  } finally {
    await handle.close();
  }
  return hash.digest("base64");
}

/** Moves a finished upload's file into the objects directory and records the object (a new generation). */
async function storeObject(
  deps: BuildsDeps,
  bucket: StoredBucket,
  name: string,
  contentType: string,
  uploaded: string,
): Promise<StoredObject> {
  const now = deps.clock.now();
  const file = randomBytes(16).toString("hex");
  const path = join(deps.sourceBuilds.objectsDir, file);
  await rename(uploaded, path);
  const object: StoredObject = {
    bucket: bucket.name,
    name,
    generation: String(now * 1000 + Math.floor(Math.random() * 1000)),
    size: (await stat(path)).size,
    contentType,
    md5Hash: await md5Of(path),
    timeCreated: toRfc3339(now),
    file,
  };
  const previous = await deps.store.transact(async (tx) => {
    const key = `${bucket.name}/${name}`;
    const old = await tx.get<StoredObject>("storageObject", key);
    tx.put("storageObject", key, object);
    return old;
  });
  // Cloud Storage without versioning keeps only the newest generation.
  if (previous) await rm(join(deps.sourceBuilds.objectsDir, previous.file), { force: true });
  return object;
}

/** The path of an object's bytes on this machine. */
export function objectPath(deps: BuildsDeps, object: StoredObject): string {
  return join(deps.sourceBuilds.objectsDir, object.file);
}

function boundaryOf(contentType: string | undefined): string {
  const match = /boundary=(?:"([^"]+)"|'([^']+)'|([^;\s]+))/i.exec(contentType ?? "");
  const boundary = match?.[1] ?? match?.[2] ?? match?.[3];
  if (!contentType?.toLowerCase().startsWith("multipart/related") || !boundary) {
    throw invalidArgument("A multipart upload must be multipart/related with a boundary.");
  }
  return boundary;
}

interface Part {
  headers: string;
  body: Buffer;
}

/** The parts of a multipart/related body (the delimiter lines may end in CRLF or LF, as Python writes them). */
function partsOf(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const malformed = () => invalidArgument("The multipart body is malformed.");
  let at = body.indexOf(delimiter);
  if (at < 0) throw malformed();
  const parts: Part[] = [];
  for (;;) {
    let start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString("latin1") === "--") return parts;
    if (body[start] === 0x0d) start++;
    if (body[start] !== 0x0a) throw malformed();
    start++;
    const next = body.indexOf(delimiter, start);
    if (next < 0 || parts.length >= 2) throw malformed();
    let end = next;
    if (body[end - 1] === 0x0a) end--;
    if (body[end - 1] === 0x0d) end--;
    const part = body.subarray(start, end);
    const crlf = part.indexOf("\r\n\r\n");
    const lf = part.indexOf("\n\n");
    const split = crlf >= 0 && (lf < 0 || crlf < lf) ? { at: crlf, length: 4 } : { at: lf, length: 2 };
    if (split.at < 0) throw malformed();
    parts.push({
      headers: part.subarray(0, split.at).toString("latin1"),
      body: part.subarray(split.at + split.length),
    });
    at = next;
  }
}

function metadataOf(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text === "" ? "{}" : text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw invalidArgument("The object's metadata is not a JSON object.");
}

const contentTypeOf = (headers: string) =>
  /^content-type:\s*([^\r\n]+)/im.exec(headers)?.[1]?.trim() ?? "application/octet-stream";

/** `uploadType=multipart`: JSON metadata, then the bytes, in one multipart/related body. */
export async function uploadMultipart(
  deps: BuildsDeps,
  ctx: CallContext,
  request: { bucket: string; name?: string | null; contentType?: string; body: AsyncIterable<Uint8Array> },
): Promise<StoredObject> {
  const bucket = await bucketForUpload(deps, ctx, request.bucket);
  const boundary = boundaryOf(request.contentType);
  const [metadataPart, media] = partsOf(await readAll(request.body, MAX_MULTIPART_BYTES), boundary);
  if (!metadataPart || !media) throw invalidArgument("A multipart upload has the metadata and then the media.");
  const metadata = metadataOf(metadataPart.body.toString("utf8"));
  const name = validObjectName(request.name ?? metadata["name"]);
  if (media.body.length > MAX_OBJECT_BYTES) throw tooLarge(MAX_OBJECT_BYTES);
  const uploaded = join(deps.sourceBuilds.uploadsDir, randomBytes(16).toString("hex"));
  const handle = await open(uploaded, "wx", 0o600);
  try {
    await handle.write(media.body);
  } finally {
    await handle.close();
  }
  const contentType =
    typeof metadata["contentType"] === "string" ? metadata["contentType"] : contentTypeOf(media.headers);
  return storeObject(deps, bucket, name, contentType, uploaded);
}

/** `uploadType=resumable`, first call: the metadata; answers the upload's id. */
export async function startResumableUpload(
  deps: BuildsDeps,
  ctx: CallContext,
  request: {
    bucket: string;
    name?: string | null;
    /** The object's metadata, JSON (may be empty). */
    body: AsyncIterable<Uint8Array>;
    /** X-Upload-Content-Type and X-Upload-Content-Length. */
    contentType?: string;
    length?: string;
  },
): Promise<ResumableUpload> {
  const bucket = await bucketForUpload(deps, ctx, request.bucket);
  const metadata = metadataOf((await readAll(request.body, MAX_METADATA_BYTES)).toString("utf8"));
  const name = validObjectName(request.name ?? metadata["name"]);
  let totalSize: number | undefined;
  if (request.length !== undefined) {
    totalSize = /^\d{1,15}$/.test(request.length) ? Number(request.length) : NaN;
    if (!Number.isSafeInteger(totalSize)) throw invalidArgument("X-Upload-Content-Length is not a byte count.");
    if (totalSize > MAX_OBJECT_BYTES) throw tooLarge(MAX_OBJECT_BYTES);
  }
  const uploads = deps.sourceBuilds.uploads;
  const now = deps.clock.now();
  for (const [id, upload] of uploads) {
    if (now - upload.createdMs > UPLOAD_LIFETIME_MS) await dropUpload(deps, id);
  }
  if (uploads.size >= MAX_OPEN_UPLOADS) {
    throw new ApiError("RESOURCE_EXHAUSTED", "Too many resumable uploads in progress; finish one first.");
  }
  const id = randomBytes(24).toString("base64url");
  const upload: ResumableUpload = {
    id,
    bucket: bucket.name,
    name,
    projectId: bucket.projectId,
    principal: principalKey(ctx.principal),
    contentType:
      typeof metadata["contentType"] === "string"
        ? metadata["contentType"]
        : (request.contentType ?? "application/octet-stream"),
    ...(totalSize !== undefined ? { totalSize } : {}),
    received: 0,
    file: join(deps.sourceBuilds.uploadsDir, randomBytes(16).toString("hex")),
    createdMs: now,
  };
  await (await open(upload.file, "wx", 0o600)).close();
  uploads.set(id, upload);
  return upload;
}

async function dropUpload(deps: BuildsDeps, id: string): Promise<void> {
  const upload = deps.sourceBuilds.uploads.get(id);
  deps.sourceBuilds.uploads.delete(id);
  if (upload) await rm(upload.file, { force: true });
}

export type ResumableProgress = { done: false; received: number } | { done: true; object: StoredObject };

// `Content-Range: bytes A-B/TOTAL`, or `bytes */TOTAL` and `bytes */*` (a status query).
function parseContentRange(header: string | undefined) {
  if (header === undefined) return undefined;
  const match = /^bytes (?:(\d{1,15})-(\d{1,15})|\*)\/(\d{1,15}|\*)$/.exec(header.trim());
  if (!match) throw invalidArgument(`Invalid Content-Range: ${header.slice(0, 100)}`);
  return {
    ...(match[1] !== undefined ? { first: Number(match[1]), last: Number(match[2]) } : {}),
    ...(match[3] !== "*" ? { total: Number(match[3]) } : {}),
  };
}

/** A later call of a resumable upload: bytes (all, or a chunk), or a query of how many arrived. */
export async function continueResumableUpload(
  deps: BuildsDeps,
  ctx: CallContext,
  request: { uploadId: string; contentRange?: string; body: AsyncIterable<Uint8Array> },
): Promise<ResumableProgress> {
  const upload = deps.sourceBuilds.uploads.get(request.uploadId);
  if (!upload || upload.principal !== principalKey(ctx.principal)) {
    throw notFound("No such upload: it finished, expired or was started by someone else.");
  }
  const bucket = await bucketForUpload(deps, ctx, upload.bucket);
  const range = parseContentRange(request.contentRange);
  const total = range?.total ?? upload.totalSize;
  if (total !== undefined && total > MAX_OBJECT_BYTES) throw tooLarge(MAX_OBJECT_BYTES);
  if (upload.totalSize !== undefined && total !== undefined && total !== upload.totalSize) {
    throw invalidArgument(`The upload was declared as ${upload.totalSize} bytes, not ${total}.`);
  }
  if (range?.first !== undefined) {
    if (range.first !== upload.received || range.last === undefined || range.last < range.first) {
      throw invalidArgument(`The chunk starts at byte ${range.first}; ${upload.received} bytes have arrived.`);
    }
  }
  try {
    upload.received = await appendBody(request.body, upload.file, upload.received, total ?? MAX_OBJECT_BYTES);
  } catch (error) {
    await dropUpload(deps, upload.id);
    throw error;
  }
  if (range?.last !== undefined && upload.received !== range.last + 1) {
    await dropUpload(deps, upload.id);
    throw invalidArgument(`The chunk's bytes do not match its Content-Range.`);
  }
  const complete = range === undefined || (total !== undefined && upload.received === total);
  if (!complete) return { done: false, received: upload.received };
  deps.sourceBuilds.uploads.delete(upload.id);
  return { done: true, object: await storeObject(deps, bucket, upload.name, upload.contentType, upload.file) };
}
