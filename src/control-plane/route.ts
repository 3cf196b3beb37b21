// A control-plane route: which API and URL it answers, the audit method name, and a handler that turns a
// parsed call into a JSON body (with its audit target: audit-target.ts). Handlers are plain functions; HTTP
// stays in server.ts.
import type { IncomingHttpHeaders } from "node:http";
import type { CallContext } from "../iam/call-context.js";
import type { ApiDeps } from "./api-deps.js";
import type { WireBody } from "./wire/proto.js";

export type ApiName =
  | "iam"
  | "iamcredentials"
  | "cloudresourcemanager"
  | "serviceusage"
  | "run"
  | "secretmanager"
  | "compute"
  | "logging"
  | "vpcaccess"
  | "oauth2"
  | "iap"
  | "artifactregistry"
  | "cloudbuild"
  | "storage"
  | "runguard";

export interface ApiCall {
  platform: ApiDeps;
  ctx: CallContext;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** The region taken from a regional host such as us-central1-run.googleapis.com. */
  region?: string;
  /** The caller's socket address (never a forwarded header, which a client could forge). */
  clientAddress?: string;
  /** The externally visible base URL of the control plane, e.g. http://127.0.0.1:8089. */
  baseUrl: string;
  /** Routes with `rawBody` only: the request's headers and its body, unread (`body` above is then empty). */
  raw?: { headers: IncomingHttpHeaders; body: AsyncIterable<Uint8Array> };
}

const REPLY = Symbol("reply");

export interface Reply {
  [REPLY]: true;
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  api: ApiName;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Matched against the URL path; named groups become params (URL-decoded). */
  path: RegExp;
  /** The fully-qualified audit methodName, e.g. google.iam.admin.v1.CreateServiceAccount. */
  methodName: string;
  /** Mutating calls are always audited (Admin Activity); reads only when denied. */
  mutates: boolean;
  /** Reads of user data (e.g. AccessSecretVersion) always get a Data Access entry, granted or denied. */
  dataAccess?: boolean;
  /** The body's Google wire type: a body that does not match it is answered 400 before the handler runs. */
  body?: WireBody;
  /** The handler reads the body itself, as bytes (uploads): it is neither buffered nor parsed as JSON. */
  rawBody?: boolean;
  /** Routes that do their own authentication (OAuth token endpoint, public keys). */
  anonymous?: boolean;
  /** The body, a Reply, or either wrapped by auditAs with the resource the audit entry names. */
  handle(call: ApiCall): Promise<unknown>;
}

export const reply = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({
  [REPLY]: true,
  status,
  body,
  ...(headers ? { headers } : {}),
});

export function isReply(value: unknown): value is Reply {
  return typeof value === "object" && value !== null && REPLY in value;
}

/** `(?<name>[^/:]+)` with a readable name: seg("project") */
export const seg = (name: string) => `(?<${name}>[^/:]+)`;
export const path = (source: string) => new RegExp(`^${source}$`);
