// Typed errors carrying a Google canonical status. They are mapped to HTTP and gRPC in exactly one place
// (control-plane/respond.ts); domain code throws them and never thinks about HTTP.

export const GOOGLE_STATUSES = [
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

export type GoogleStatus = (typeof GOOGLE_STATUSES)[number];

/** One entry of google.rpc.Status.details, e.g. ErrorInfo or ResourceInfo. */
export type ErrorDetail = { "@type": string } & Record<string, unknown>;

export class ApiError extends Error {
  readonly status: GoogleStatus;
  readonly details: readonly ErrorDetail[];

  constructor(status: GoogleStatus, message: string, details: readonly ErrorDetail[] = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.details = details;
  }
}

export const invalidArgument = (message: string, details?: ErrorDetail[]) =>
  new ApiError("INVALID_ARGUMENT", message, details);
export const notFound = (message: string) => new ApiError("NOT_FOUND", message);
export const alreadyExists = (message: string, details?: ErrorDetail[]) =>
  new ApiError("ALREADY_EXISTS", message, details);
export const failedPrecondition = (message: string) => new ApiError("FAILED_PRECONDITION", message);
export const aborted = (message: string) => new ApiError("ABORTED", message);
export const unauthenticated = (message: string) => new ApiError("UNAUTHENTICATED", message);
export const unimplemented = (message: string) => new ApiError("UNIMPLEMENTED", message);

/** Google's shape for a denied permission on an admin API. */
export function permissionDenied(permission: string, resource: string, domain: string): ApiError {
  return new ApiError(
    "PERMISSION_DENIED",
    `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`,
    [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "IAM_PERMISSION_DENIED",
        domain,
        metadata: { permission, resource },
      },
    ],
  );
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

/**
 * A condition that keeps runguard from starting (a port in use, a data directory in use, a missing or wrong
 * key-encryption key). Its message says what to do; the CLI prints it alone, without a stack trace.
 */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}
