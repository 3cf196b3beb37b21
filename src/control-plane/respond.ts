// The one place where errors become HTTP (Google's {"error":{"code","message","status","details"}} shape) and
// gRPC (a status code, and a google.rpc.Status in grpc-status-details-bin: control-plane/grpc encodes it).
// Unexpected errors never leak their message (it could hold anything): clients get INTERNAL and a request id.
import type { ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { ApiError, type ErrorDetail, type GoogleStatus } from "../core/errors.js";

const HTTP_CODES: Record<GoogleStatus, number> = {
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
};

export const httpCodeOf = (status: GoogleStatus): number => HTTP_CODES[status];

/** google.rpc.Code, which gRPC status codes are. */
const GRPC_CODES: Record<GoogleStatus, number> = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

export const grpcCodeOf = (status: GoogleStatus): number => GRPC_CODES[status];

/** google.rpc.Status in its JSON form: what a gRPC error carries in grpc-status-details-bin. */
export function rpcStatusOf(error: ApiError): { code: number; message: string; details: ErrorDetail[] } {
  return { code: grpcCodeOf(error.status), message: error.message, details: [...error.details] };
}

/** Legacy `errors[].reason` values some Google clients (compute, older APIs) still read. */
const LEGACY_REASONS: Partial<Record<GoogleStatus, string>> = {
  NOT_FOUND: "notFound",
  ALREADY_EXISTS: "alreadyExists",
  PERMISSION_DENIED: "forbidden",
  ABORTED: "aborted",
  INVALID_ARGUMENT: "badRequest",
  FAILED_PRECONDITION: "failedPrecondition",
  UNAUTHENTICATED: "required",
};

export interface ErrorBody {
  error: {
    code: number;
    message: string;
    status: GoogleStatus;
    errors?: Array<{ message: string; domain: string; reason: string }>;
    details?: unknown[];
  };
}

export function errorBody(error: ApiError): ErrorBody {
  const reason = LEGACY_REASONS[error.status];
  return {
    error: {
      code: httpCodeOf(error.status),
      message: error.message,
      ...(reason ? { errors: [{ message: error.message, domain: "global", reason }] } : {}),
      status: error.status,
      ...(error.details.length > 0 ? { details: [...error.details] } : {}),
    },
  };
}

/** Turns anything thrown into an ApiError; the second value is a request id to log for unexpected errors. */
export function toApiError(thrown: unknown): { error: ApiError; unexpected: boolean; requestId?: string } {
  if (thrown instanceof ApiError) return { error: thrown, unexpected: false };
  const requestId = randomUUID();
  return {
    error: new ApiError("INTERNAL", `Internal error encountered. Request id: ${requestId}`),
    unexpected: true,
    requestId,
  };
}

export function sendJson(
  res: ServerResponse,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(statusCode, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** A handler's own reply: JSON unless it brings its own body text (HTML pages, redirects). */
export function sendReply(
  res: ServerResponse,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (typeof body !== "string") return sendJson(res, statusCode, body, headers);
  res.writeHead(statusCode, {
    "content-type": "text/plain; charset=UTF-8",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

export function sendError(res: ServerResponse, error: ApiError): void {
  sendJson(res, httpCodeOf(error.status), errorBody(error));
}
