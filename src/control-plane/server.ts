// The control-plane HTTP front: find the route, authenticate, run the handler with an IAM-checking call
// context, write the audit entry, and answer in Google's JSON shapes.
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { ApiError, invalidArgument } from "../core/errors.js";
import { createCallContext, type CallContext } from "../iam/call-context.js";
import type { ApiDeps } from "./api-deps.js";
import { failureOf, resultOf, type AuditTarget } from "./audit-target.js";
import { ANONYMOUS, type Principal } from "../iam/types.js";
import { buildAuditEntry } from "../audit/audit-log.js";
import { authenticateCaller } from "./authenticate.js";
import { requireScopes } from "./scopes.js";
import { parseJsonBody, readBody } from "./read-body.js";
import { errorBody, sendError, sendJson, sendReply, toApiError } from "./respond.js";
import { isReply, type ApiCall, type ApiName, type Route } from "./route.js";
import { decodeBody } from "./wire/proto.js";
import { parseTarget, type RequestTarget } from "./target.js";
import { decodeComponent } from "../core/http-input.js";
import { answerClientErrors } from "../http/client-errors.js";

export interface ControlPlaneOptions {
  platform: ApiDeps;
  routes: readonly Route[];
  /** e.g. http://127.0.0.1:8089 */
  baseUrl: string;
  onUnexpectedError?: (requestId: string, error: unknown) => void;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function createControlPlaneHandler(options: ControlPlaneOptions): RequestHandler {
  return (req, res) => {
    handle(options, req, res).catch((error: unknown) => {
      options.onUnexpectedError?.("late", error);
      if (!res.headersSent) sendError(res, new ApiError("INTERNAL", "Internal error encountered."));
      else res.destroy();
    });
  };
}

/** A request Node's parser refused (bad request line, CR/LF in a header, broken chunks): Google's JSON 400. */
export function answerMalformedApiRequests(server: Pick<Server, "on">): void {
  answerClientErrors(server, () => ({
    contentType: "application/json; charset=UTF-8",
    body: JSON.stringify(errorBody(invalidArgument("Your client has issued a malformed or illegal request."))),
  }));
}

/** What CONNECT may reach: Google's API hosts and Cloud Run's, whose TLS runguard terminates itself. */
const TUNNELLED_HOST = /^(?:[a-z0-9-]+\.)*(?:googleapis\.com|run\.app)$/;

/** Whether runguard answers this host itself (a Google API or a *.run.app service), so may serve it over TLS. */
export function isServedHost(host: string): boolean {
  return TUNNELLED_HOST.test(host.toLowerCase());
}

/**
 * The host of a `CONNECT host:443` runguard answers itself, or undefined: runguard tunnels to nothing, it only
 * terminates TLS for the names it serves, and refuses every other target.
 */
export function tunnelHostOf(req: IncomingMessage): string | undefined {
  const match = /^([A-Za-z0-9.-]{1,253}):443$/.exec(req.url ?? "");
  const host = match?.[1]?.toLowerCase();
  return host && isServedHost(host) ? host : undefined;
}

/** A CONNECT to anything runguard does not serve: 403, as a proxy that never tunnels anywhere else. */
export function refuseConnect(req: IncomingMessage, socket: Duplex): void {
  socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n`);
  req.resume();
}

function findRoute(routes: readonly Route[], target: RequestTarget, method: string) {
  for (const route of routes) {
    if (target.api && route.api !== target.api && route.api !== "runguard") continue;
    if (route.method !== method) continue;
    const match = route.path.exec(target.pathname);
    if (!match) continue;
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(match.groups ?? {})) {
      if (value === undefined) continue;
      const decoded = decodeComponent(value);
      if (decoded === undefined) throw invalidArgument(`Invalid URL escape in the path: ${target.pathname}`);
      params[key] = decoded;
    }
    return { route, params };
  }
  return undefined;
}

/**
 * One API call, whatever carried it: HTTP/1.1 or HTTP/2 REST (this file), or gRPC transcoded to its REST form
 * (control-plane/grpc). Authentication, IAM, validation, the audit entry and the error are the same for both.
 */
export interface ApiRequest {
  method: string;
  target: RequestTarget;
  /** Lower-case names: authorization, user-agent, content-type. */
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; routes with `rawBody` read `raw` instead. */
  body?: unknown;
  /** The body unread (HTTP only): routes with `rawBody` stream it; others have it read and parsed here. */
  raw?: IncomingMessage;
  /** The caller's socket address (never a forwarded header, which a client could forge). */
  clientAddress?: string;
}

/** What a call answered: a status and body, or the ApiError it failed with (mapped by the transport). */
export type ApiOutcome =
  | { ok: true; status: number; body: unknown; headers?: Record<string, string>; json?: true }
  | { ok: false; error: ApiError };

/** A transport-neutral dispatcher over the routes: what the gRPC gateway calls. */
export type ApiDispatch = (request: ApiRequest) => Promise<ApiOutcome>;

export function createApiDispatch(options: ControlPlaneOptions): ApiDispatch {
  return (request) => dispatch(options, request);
}

/** Who is calling, from the request headers alone: UNAUTHENTICATED as REST answers it, else the caller. */
export type ApiAuthenticator = (
  headers: IncomingHttpHeaders,
  target: Pick<RequestTarget, "host" | "api">,
  api: ApiName,
) => Promise<Caller>;

type Caller = Awaited<ReturnType<typeof authenticateCaller>>;

/**
 * The check dispatch makes before it reads a body, for a transport that must refuse an unauthenticated call
 * before buffering or decoding its message (the gRPC gateway).
 */
export function createApiAuthenticator(options: ControlPlaneOptions): ApiAuthenticator {
  return (headers, target, api) => authenticate(options.platform, headers, target, api);
}

function authenticate(
  platform: ApiDeps,
  headers: IncomingHttpHeaders,
  target: Pick<RequestTarget, "host" | "api">,
  api: ApiName,
): Promise<Caller> {
  return authenticateCaller(headers, platform.tokens, (email) => platform.subjects.isDisabled(email), {
    target,
    api,
    keys: platform,
  });
}

async function handle(options: ControlPlaneOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let target: RequestTarget;
  try {
    target = parseTarget(req);
  } catch (malformed) {
    req.resume();
    sendError(res, toApiError(malformed).error);
    return;
  }
  const outcome = await dispatch(options, {
    method: req.method ?? "GET",
    target,
    headers: req.headers,
    raw: req,
    ...(req.socket.remoteAddress ? { clientAddress: req.socket.remoteAddress } : {}),
  });
  // A body left unread (an unknown route, a refused upload) is discarded, not left to stall the connection.
  if (!req.readableEnded) req.resume();
  if (res.headersSent) return;
  if (outcome.ok && outcome.json) sendJson(res, outcome.status, outcome.body);
  else if (outcome.ok) sendReply(res, outcome.status, outcome.body, outcome.headers);
  else sendError(res, outcome.error);
}

async function dispatch(options: ControlPlaneOptions, request: ApiRequest): Promise<ApiOutcome> {
  const { platform } = options;
  const { target } = request;
  let found: ReturnType<typeof findRoute>;
  try {
    found = findRoute(options.routes, target, request.method);
  } catch (malformed) {
    return { ok: false, error: toApiError(malformed).error };
  }
  if (!found)
    return {
      ok: false,
      error: new ApiError("NOT_FOUND", `The requested URL ${target.pathname} was not found on this server.`),
    };
  const { route, params } = found;
  let principal: Principal = ANONYMOUS;
  let ctx: CallContext | undefined;
  // What the audit entry names once the handler has answered (a failure carries its own).
  let answered: AuditTarget = {};
  try {
    if (!route.anonymous) {
      const caller = await authenticate(platform, request.headers, target, route.api);
      requireScopes(route, caller.scopes);
      principal = caller.principal;
    }
    let body: Record<string, unknown> = {};
    if (!route.rawBody) {
      const parsed =
        request.body !== undefined
          ? request.body
          : request.raw
            ? parseJsonBody(await readBody(request.raw, platform.config.maxBodyBytes), request.headers["content-type"])
            : {};
      body = (route.body ? decodeBody(route.body, parsed) : parsed) as Record<string, unknown>;
    }
    ctx = createCallContext({
      principal,
      serviceName: serviceNameOf(route),
      decide: (p, permission, resource) => platform.engine.decide(p, permission, resource),
    });
    const call: ApiCall = {
      platform,
      ctx,
      params,
      query: target.query,
      body,
      baseUrl: options.baseUrl,
      ...(route.rawBody && request.raw ? { raw: { headers: request.headers, body: request.raw } } : {}),
      ...(request.clientAddress ? { clientAddress: request.clientAddress } : {}),
      ...(target.region ? { region: target.region } : {}),
    };
    const { result, target: audited } = resultOf(await route.handle(call));
    answered = audited;
    await auditCall(options, route, params, audited, ctx, request);
    if (isReply(result))
      return {
        ok: true,
        status: result.status,
        body: result.body,
        ...(result.headers ? { headers: result.headers } : {}),
      };
    return { ok: true, status: 200, body: result ?? {}, json: true };
  } catch (thrown) {
    const { failure, target: audited = answered } = failureOf(thrown);
    const { error, unexpected, requestId } = toApiError(failure);
    if (unexpected && requestId) options.onUnexpectedError?.(requestId, failure);
    if (ctx && (route.mutates || route.dataAccess || error.status === "PERMISSION_DENIED")) {
      await auditCall(options, route, params, audited, ctx, request, error).catch(() => undefined);
    }
    return { ok: false, error };
  }
}

function serviceNameOf(route: Route): string {
  return route.api === "runguard" ? "runguard.local" : `${route.api}.googleapis.com`;
}

async function auditCall(
  options: ControlPlaneOptions,
  route: Route,
  params: Record<string, string>,
  audited: AuditTarget,
  ctx: CallContext,
  request: ApiRequest,
  error?: ApiError,
): Promise<void> {
  if (!route.mutates && !route.dataAccess && !error) return;
  const { platform } = options;
  const projectId = audited.projectId ?? params["project"] ?? platform.config.projectId;
  const userAgent = request.headers["user-agent"];
  const entry = buildAuditEntry(
    {
      projectId: projectId === "-" ? platform.config.projectId : projectId,
      logType: route.dataAccess ? "data_access" : "activity",
      serviceName: serviceNameOf(route),
      methodName: route.methodName,
      resourceName: audited.resourceName ?? ctx.authorizationInfo[0]?.resource ?? "",
      principal: ctx.principal,
      authorizationInfo: ctx.authorizationInfo,
      ...(error ? { error: { status: error.status, message: error.message } } : {}),
      ...(request.clientAddress ? { callerIp: request.clientAddress } : {}),
      ...(userAgent ? { userAgent } : {}),
      ...(audited.resource ? { resource: audited.resource } : {}),
    },
    platform.clock.now(),
  );
  await platform.store.appendLog(entry);
}
