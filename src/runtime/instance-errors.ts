// Why no instance could take a request. The front end answers a CapacityTimeoutError with Cloud Run's 429 page
// and anything else, an InstanceStartError first of all, with its 500 page (gateway/forward.ts); `status` is
// the Google status of that answer, `reason` says what went wrong for logs and tests.
import type { GoogleStatus } from "../core/errors.js";

export type InstanceStartReason =
  /** The revision a request was routed to is no longer stored. */
  | "revision-not-found"
  /** The revision's image is not in the local image store. */
  | "image-not-found"
  /** A secret the revision references could not be read with its service account's permissions. */
  | "secret-unreadable"
  /** The container's command is missing or could not be executed. */
  | "spawn"
  /** The container exited before it listened on its port. */
  | "exited"
  /** The container did not listen on its port within the startup timeout. */
  | "timeout";

export class InstanceStartError extends Error {
  override readonly name = "InstanceStartError";
  readonly status: GoogleStatus = "INTERNAL";
  constructor(
    readonly reason: InstanceStartReason,
    message: string,
    /** The last lines the container wrote to stderr before it failed, when it ran at all. */
    readonly stderrTail: string[] = [],
  ) {
    super(message);
  }
}

/** Every instance is busy and none could be added before the request's wait ran out (or the pool closed). */
export class CapacityTimeoutError extends Error {
  override readonly name = "CapacityTimeoutError";
  readonly status: GoogleStatus = "RESOURCE_EXHAUSTED";
  constructor() {
    super("Rejected by the server because no available instance.");
  }
}
