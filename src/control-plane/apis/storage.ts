// Cloud Storage JSON API v1, as much as a source deploy uses: buckets (get, insert, list) and object uploads
// (`uploadType=multipart`, and `uploadType=resumable` then PUTs, as apitools sends files over 5 MiB). Upload
// bodies are bytes: these routes read them themselves (rawBody), never as JSON.
import { invalidArgument } from "../../core/errors.js";
import {
  bucketProject,
  bucketShownAs,
  continueResumableUpload,
  createBucket,
  getBucket,
  getObject,
  listBuckets,
  renderBucket,
  renderObject,
  startResumableUpload,
  uploadMultipart,
  type BucketInput,
} from "../../builds/storage.js";
import { path, reply, seg, type ApiCall, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";
import { inProject } from "../call-project.js";

const M = "storage.";
const B = `/storage/v1/b/${seg("bucket")}`;
const UPLOAD = `/upload/storage/v1/b/${seg("bucket")}/o`;
/** apitools starts a resumable upload at `/resumable/upload/...`, the discovery document's resumable path. */
const UPLOAD_PATHS = `(?:/resumable)?${UPLOAD}`;

const bucketName = (call: ApiCall) => call.params["bucket"] ?? "";

/** Runs `work` audited against the bucket (and its project, when it exists). */
async function onBucket(call: ApiCall, work: () => unknown) {
  const projectId = await bucketProject(call.platform, bucketName(call));
  return auditAs({ ...(projectId ? { projectId } : {}), resourceName: bucketShownAs(bucketName(call)) }, work);
}

function rawOf(call: ApiCall) {
  if (!call.raw) throw invalidArgument("The request has no body.");
  return call.raw;
}

const header = (call: ApiCall, name: string): string | undefined => {
  const value = rawOf(call).headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export const storageRoutes: Route[] = [
  {
    api: "storage",
    method: "GET",
    path: path(B),
    methodName: `${M}buckets.get`,
    mutates: false,
    handle: (call) =>
      onBucket(call, async () => renderBucket(await getBucket(call.platform, call.ctx, bucketName(call)))),
  },
  {
    api: "storage",
    method: "GET",
    path: path("/storage/v1/b"),
    methodName: `${M}buckets.list`,
    mutates: false,
    handle: (call) =>
      inProject(
        call,
        async ({ projectId }) => {
          const buckets = await listBuckets(call.platform, call.ctx, projectId, call.query.get("prefix") ?? "");
          return { kind: "storage#buckets", items: buckets.map(renderBucket) };
        },
        call.query.get("project") ?? "",
      ),
  },
  {
    api: "storage",
    method: "POST",
    path: path("/storage/v1/b"),
    methodName: `${M}buckets.create`,
    mutates: true,
    handle: (call) =>
      inProject(
        call,
        async (project) => {
          const input = call.body as BucketInput;
          return auditAs({ resourceName: bucketShownAs(typeof input.name === "string" ? input.name : "") }, async () =>
            renderBucket(await createBucket(call.platform, call.ctx, project, input)),
          );
        },
        call.query.get("project") ?? "",
      ),
  },
  {
    api: "storage",
    method: "GET",
    path: path(`${B}/o/(?<object>.+)`),
    methodName: `${M}objects.get`,
    mutates: false,
    dataAccess: true,
    handle: (call) =>
      onBucket(call, async () =>
        renderObject(await getObject(call.platform, call.ctx, bucketName(call), call.params["object"] ?? "")),
      ),
  },
  {
    api: "storage",
    method: "POST",
    path: path(UPLOAD_PATHS),
    methodName: `${M}objects.create`,
    mutates: true,
    rawBody: true,
    handle: (call) =>
      onBucket(call, async () => {
        const uploadType = call.query.get("uploadType");
        const name = call.query.get("name");
        if (uploadType === "multipart") {
          const object = await uploadMultipart(call.platform, call.ctx, {
            bucket: bucketName(call),
            name,
            ...(header(call, "content-type") ? { contentType: header(call, "content-type") as string } : {}),
            body: rawOf(call).body,
          });
          return renderObject(object);
        }
        if (uploadType === "resumable") {
          const contentType = header(call, "x-upload-content-type");
          const length = header(call, "x-upload-content-length");
          const upload = await startResumableUpload(call.platform, call.ctx, {
            bucket: bucketName(call),
            name,
            body: rawOf(call).body,
            ...(contentType ? { contentType } : {}),
            ...(length !== undefined ? { length } : {}),
          });
          // Where the rest goes: this host (storage.googleapis.com through the proxy, or runguard called directly).
          const host = header(call, "host") ?? new URL(call.baseUrl).host;
          const location = `http://${host}${UPLOAD.replace(seg("bucket"), encodeURIComponent(upload.bucket))}?uploadType=resumable&upload_id=${upload.id}`;
          return reply(200, {}, { location });
        }
        throw invalidArgument(
          `runguard takes uploadType=multipart or uploadType=resumable, not '${uploadType ?? ""}'.`,
        );
      }),
  },
  {
    api: "storage",
    method: "PUT",
    path: path(UPLOAD_PATHS),
    methodName: `${M}objects.create`,
    mutates: true,
    rawBody: true,
    handle: (call) =>
      onBucket(call, async () => {
        const contentRange = header(call, "content-range");
        const progress = await continueResumableUpload(call.platform, call.ctx, {
          uploadId: call.query.get("upload_id") ?? "",
          ...(contentRange ? { contentRange } : {}),
          body: rawOf(call).body,
        });
        if (progress.done) return renderObject(progress.object);
        // 308 "Resume Incomplete", with the bytes received so far.
        return reply(308, "", progress.received > 0 ? { range: `bytes=0-${progress.received - 1}` } : {});
      }),
  },
];
