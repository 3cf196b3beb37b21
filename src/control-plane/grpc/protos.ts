// Google's published service definitions (the google-proto-files package), parsed once, on first use: about
// 80 ms for every service below, so a runguard that never sees a gRPC call never pays it.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import protobuf from "protobufjs";
import type { HttpBinding } from "./transcode.js";

/** A gRPC service served by transcoding each method to the REST route Google maps it to. */
export interface ServedService {
  /** Fully qualified, e.g. google.cloud.secretmanager.v1.SecretManagerService. */
  name: string;
  /** The `google.api.default_host` of the service, as the REST target's host. */
  host: string;
  /**
   * Bindings from the API's service configuration rather than the proto (google.longrunning.Operations is one
   * service for every API; each maps it onto its own paths). When given, only these methods are served.
   */
  bindings?: Readonly<Record<string, readonly HttpBinding[]>>;
}

export const SERVED_SERVICES: readonly ServedService[] = [
  { name: "google.cloud.secretmanager.v1.SecretManagerService", host: "secretmanager.googleapis.com" },
  { name: "google.iam.credentials.v1.IAMCredentials", host: "iamcredentials.googleapis.com" },
  { name: "google.cloud.run.v2.Services", host: "run.googleapis.com" },
  { name: "google.cloud.run.v2.Revisions", host: "run.googleapis.com" },
  { name: "google.logging.v2.LoggingServiceV2", host: "logging.googleapis.com" },
  // Run v2's operations (run_v2.yaml), which @google-cloud/run polls for a long-running operation not yet done.
  {
    name: "google.longrunning.Operations",
    host: "run.googleapis.com",
    bindings: { GetOperation: [{ verb: "GET", template: "/v2/{name=projects/*/locations/*/operations/*}" }] },
  },
];

const PROTO_FILES = [
  "google/cloud/secretmanager/v1/service.proto",
  "google/iam/credentials/v1/iamcredentials.proto",
  "google/cloud/run/v2/service.proto",
  "google/cloud/run/v2/revision.proto",
  "google/logging/v2/logging.proto",
  "google/longrunning/operations.proto",
  // Audit entries carry an AuditLog in protoPayload: the Any must name a loaded type to encode.
  "google/cloud/audit/audit_log.proto",
  // What error details and Status carry (ErrorInfo, BadRequest, ...), so their Any values encode.
  "google/rpc/error_details.proto",
  "google/rpc/status.proto",
];

let loaded: protobuf.Root | undefined;

/** The root holding every served service and the types their messages and Any values name. */
export function googleProtos(): protobuf.Root {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const base = dirname(require.resolve("google-proto-files/package.json"));
  const root = new protobuf.Root();
  // Imports are relative to the package root (google/api/annotations.proto, google/protobuf/...).
  root.resolvePath = (_origin, target) => join(base, target);
  root.loadSync(PROTO_FILES);
  root.resolveAll();
  loaded = root;
  return root;
}
