// The front end in front of every service, as a chain of small stages in Cloud Run's order:
// route (Host) → ingress → invoker check (token, IAM) → header rewrite → forward to an instance → request log.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PolicyEngine } from "../iam/engine.js";
import type { TokenService } from "../tokens/types.js";
import type { Clock } from "../core/clock.js";
import type { ServiceDirectory, RoutedService } from "./directory.js";
import { decideInvoke } from "./decide-invoke.js";
import { stripSignature } from "./credentials.js";
import { admitsSource, type TrafficSource } from "./ingress.js";
import {
  forbiddenPage,
  notFoundPage,
  serverErrorPage,
  tooManyRequestsPage,
  unauthorizedPage,
  LOG_TEXT,
} from "./pages.js";
import { createHeaderRewriter } from "./forward-headers.js";
import type { Forwarder, InstanceProvider } from "./forward.js";
import type { RequestLog, RequestLogInput } from "./request-log.js";

export interface FrontEndOptions {
  directory: ServiceDirectory;
  engine: Pick<PolicyEngine, "decide">;
  tokens: Pick<TokenService, "verifyIdToken">;
  subjects: { isDisabled(email: string): boolean };
  instances: InstanceProvider;
  forwarder: Forwarder;
  requestLog: RequestLog;
  clock: Clock;
  /** Where a request comes from; everything not vouched for by runguard's own network is external. */
  classifySource: (req: IncomingMessage) => TrafficSource;
}

export interface RouteOptions {
  /** Serve this service whatever the Host (per-service ports). */
  pinned?: RoutedService;
  /** Where the request comes from, when runguard itself knows (its egress proxy, the load balancer). */
  source?: TrafficSource;
  /** Identity headers runguard vouches for (IAP's), added after every client-sent copy was stripped. */
  trustedHeaders?: Record<string, string>;
}

export type FrontEnd = (req: IncomingMessage, res: ServerResponse, route?: RouteOptions) => void;

function hostOf(req: IncomingMessage): string {
  return (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
}

function sendPage(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): number {
  if (res.headersSent) {
    res.destroy();
    return 0;
  }
  const size = Buffer.byteLength(body);
  res.writeHead(status, { "content-type": "text/html; charset=UTF-8", "content-length": size, ...extra });
  res.end(body);
  return size;
}

export function createFrontEnd(options: FrontEndOptions): FrontEnd {
  const requestHeadersForInstance = createHeaderRewriter();
  return (req, res, route = {}) => {
    const started = options.clock.now();
    const path = req.url ?? "/";
    const service = route.pinned ?? options.directory.byHost(hostOf(req));
    if (!service) {
      req.resume();
      sendPage(res, 404, notFoundPage(path));
      return;
    }
    // Ingress first: a request from a source the setting does not admit never reaches IAM and is not logged.
    if (!admitsSource(service.ingress, route.source ?? options.classifySource(req), service.projectId)) {
      req.resume();
      sendPage(res, 404, notFoundPage(path));
      return;
    }
    const log = (status: number, extra: Partial<RequestLogInput>) => {
      const userAgent = req.headers["user-agent"];
      options.requestLog.write({
        service,
        method: req.method ?? "GET",
        url: `${service.urls[0] ?? ""}${path}`,
        status,
        latencyMs: options.clock.now() - started,
        requestSize: Number(req.headers["content-length"] ?? 0),
        remoteIp: req.socket.remoteAddress ?? "",
        timestampMs: started,
        ...(userAgent ? { userAgent } : {}),
        ...extra,
      });
    };
    decideInvoke(options, service, req.rawHeaders)
      .then(async (verdict) => {
        if (!verdict.allowed) {
          req.resume();
          const body = verdict.status === 401 ? unauthorizedPage(path) : forbiddenPage(path);
          const extra =
            verdict.status === 401
              ? {
                  "www-authenticate":
                    'Bearer error="invalid_token" error_description="The access token could not be verified"',
                }
              : {};
          const size = sendPage(res, verdict.status, body, extra);
          const email =
            verdict.principal && verdict.principal.kind !== "anonymous" ? verdict.principal.email : undefined;
          log(verdict.status, {
            responseSize: size,
            textPayload: verdict.logText,
            ...(email ? { principalEmail: email } : {}),
          });
          return;
        }
        const headers = requestHeadersForInstance(req.headers, {
          clientIp: req.socket.remoteAddress ?? "",
          // Behind a per-service port the Host is a loopback address; the app sees its service URL's host.
          host: route.pinned ? new URL(service.urls[0] ?? "http://localhost").hostname : hostOf(req),
          dropServerlessAuthorization: verdict.public,
          ...(verdict.public
            ? {}
            : { checked: { header: verdict.header, value: stripSignature(verdict.scheme, verdict.token) } }),
        });
        Object.assign(headers, route.trustedHeaders ?? {});
        const outcome = await options.forwarder.forward(options.instances, service, req, res, headers);
        const email = verdict.public ? undefined : verdict.principal.email;
        const base = {
          ...(email ? { principalEmail: email } : {}),
          ...(outcome.responseSize === undefined ? {} : { responseSize: outcome.responseSize }),
        };
        if (outcome.kind === "instance-failed") {
          const size = sendPage(res, 500, serverErrorPage());
          log(500, { ...base, responseSize: size, textPayload: LOG_TEXT.instanceFailed });
        } else if (outcome.kind === "no-capacity") {
          const size = sendPage(res, 429, tooManyRequestsPage());
          log(429, { ...base, responseSize: size, textPayload: LOG_TEXT.noInstance });
        } else {
          log(outcome.status, base);
        }
      })
      .catch(() => {
        sendPage(res, 500, serverErrorPage());
      });
  };
}
