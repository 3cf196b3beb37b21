// Secret Manager resources as runguard stores them. Names use the project id; API responses use the number.
import type { Sealed } from "./envelope.js";

export interface StoredSecret {
  /** projects/PROJECT_ID/secrets/SECRET_ID */
  resource: string;
  projectId: string;
  secretId: string;
  createTime: string;
  replication: Record<string, unknown>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  etag: string;
  /** The highest version number ever created (versions are never renumbered). */
  lastVersion: number;
}

export type VersionState = "ENABLED" | "DISABLED" | "DESTROYED";

export interface StoredVersion {
  resource: string;
  secret: string;
  version: number;
  state: VersionState;
  createTime: string;
  destroyTime?: string;
  etag: string;
  clientSpecifiedPayloadChecksum: boolean;
  /** CRC32C of the payload as a decimal string, as the API returns it. */
  crc32c?: string;
  /** Absent once destroyed: the payload is gone from the store, not just flagged. */
  sealed?: Sealed;
}
