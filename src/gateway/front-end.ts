// The front end in front of every service, as a chain of small stages in Cloud Run's order:
// route (Host) → ingress → invoker check (token, IAM) → header rewrite → forward to an instance → request log.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PolicyEngine } from "../iam/engine.js";
import type { TokenService } from "../tokens/types.js";
import type { Clock } from "../core/clock.js";
import { pickRevision, type ServiceDirectory, type RoutedService } from "./directory.js";
import { decideInvokeNow, type InvokeVerdict } from "./decide-invoke.js";
import { createCredentialReader } from "./credentials.js";
import { admitsSource, type TrafficSource } from "./ingress.js";
import {
  badRequestPage,
  forbiddenPage,
  payloadTooLargePage,
  notFoundPage,
  serverErrorPage,
  tooManyRequestsPage,
  unauthorizedPage,
  LOG_TEXT,
} from "./pages.js";
import { createHeaderRewriter } from "./forward-headers.js";
import type { Forwarder, InstanceProvider } from "./forward.js";
import type { RequestLog } from "./request-log.js";
import { declaredTooLarge } from "./request-body.js";
import { parseRequestUrl } from "../core/http-input.js";

export interface FrontEndOptions {
  directory: ServiceDirectory;
  engine: Pick<PolicyEngine, "decide">;
  tokens: Pick<TokenService, "verifyIdToken" | "verifyIdTokenCached">;
  subjects: { isDisabled(email: string): boolean };
  instances: InstanceProvider;
  forwarder: Forwarder;
  requestLog: RequestLog;
  clock: Clock;
  /** Where a request comes from; everything not vouched for by runguard's own network is external. */
  classifySource: (req: IncomingMessage) => TrafficSource;
  /** IAP turned on directly on services; it resumes the front end with the requests it lets through. */
  directIap?: DirectIap;
}

/** Runs IAP for a service that has it on; `resume` is the front end, to call with `iapPassed` set. */
export type DirectIap = (
  req: IncomingMessage,
  res: ServerResponse,
  service: RoutedService,
  route: RouteOptions,
  resume: FrontEnd,
) => void;

export interface RouteOptions {
  /** Serve this service whatever the Host (per-service ports). */
  pinned?: RoutedService;
  /** Where the request comes from, when runguard itself knows (its egress proxy, the load balancer). */
  source?: TrafficSource;
  /** Identity headers runguard vouches for (IAP's), added after every client-sent copy was stripped. */
  trustedHeaders?: Record<string, string>;
  /** IAP on the service itself has let this request through. */
  iapPassed?: boolean;
}

export type FrontEnd = (req: IncomingMessage, res: ServerResponse, route?: RouteOptions) => void;

/** The Host header without its port, lower-cased. */
function hostOf(req: IncomingMessage): string {
  const host = req.headers.host;
  if (!host) return "";
  // Strip a trailing ":digits" (what /:\d+$/ matched) without a regex or an intermediate string when absent.
  let end = host.length;
  let i = end - 1;
  while (i >= 0) {
    const c = host.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i--;
  }
  if (i >= 0 && i < end - 1 && host.charCodeAt(i) === 58) end = i;
  const bare = end === host.length ? host : host.slice(0, end);
  return bare.toLowerCase();
}

/** How the front end answered a request, for its log row. */
interface Answer {
  revision: string | undefined;
  status: number;
  responseSize: number | undefined;
  principalEmail: string | undefined;
  /** Why runguard answered itself instead of the service. */
  textPayload?: string | undefined;
}

const UNAUTHORIZED_HEADERS = {
  "www-authenticate": 'Bearer error="invalid_token" error_description="The access token could not be verified"',
};

function sendPage(res: ServerResponse, status: number, body: string, extra?: Record<string, string>): number {
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
  const invokeDeps = { ...options, readCredential: createCredentialReader() };
  const { clock, requestLog } = options;

  /** One request log row per request (store/store.ts); the LogEntry is made of it only when logs are read. */
  const log = (req: IncomingMessage, service: RoutedService, path: string, started: number, answer: Answer) => {
    const contentLength = req.headers["content-length"];
    requestLog.write({
      timestampMs: started,
      projectId: service.projectId,
      serviceName: service.name,
      region: service.region,
      revision: answer.revision,
      method: req.method ?? "GET",
      url: `${service.urls[0] ?? ""}${path}`,
      status: answer.status,
      latencyMs: clock.now() - started,
      requestSize: contentLength === undefined ? 0 : Number(contentLength),
      responseSize: answer.responseSize,
      userAgent: req.headers["user-agent"] || undefined,
      remoteIp: req.socket.remoteAddress ?? "",
      principalEmail: answer.principalEmail || undefined,
      textPayload: answer.textPayload,
      trace: undefined,
    });
  };

  const reject = (
    req: IncomingMessage,
    res: ServerResponse,
    service: RoutedService,
    path: string,
    started: number,
    verdict: Extract<InvokeVerdict, { allowed: false }>,
  ) => {
    req.resume();
    const size =
      verdict.status === 401
        ? sendPage(res, 401, unauthorizedPage(path), UNAUTHORIZED_HEADERS)
        : sendPage(res, verdict.status, forbiddenPage(path));
    const email = verdict.principal && verdict.principal.kind !== "anonymous" ? verdict.principal.email : undefined;
    log(req, service, path, started, {
      revision: service.revision,
      status: verdict.status,
      responseSize: size,
      principalEmail: email,
      textPayload: verdict.logText,
    });
  };

  const proceed = (
    req: IncomingMessage,
    res: ServerResponse,
    route: RouteOptions,
    service: RoutedService,
    path: string,
    started: number,
    verdict: InvokeVerdict,
  ): Promise<void> | undefined => {
    if (!verdict.allowed) {
      reject(req, res, service, path, started, verdict);
      return undefined;
    }
    const headers = requestHeadersForInstance(req.headers, {
      clientIp: req.socket.remoteAddress ?? "",
      // Behind a per-service port the Host is a loopback address; the app sees its service URL's host.
      host: route.pinned ? new URL(service.urls[0] ?? "http://localhost").hostname : hostOf(req),
      dropServerlessAuthorization: verdict.public,
      ...(verdict.public ? {} : { checked: { header: verdict.header, value: verdict.forwardedValue } }),
    });
    if (route.trustedHeaders)
      for (const name in route.trustedHeaders) headers.push(name, route.trustedHeaders[name] ?? "");
    const email = verdict.public ? verdict.caller : verdict.principal.email;
    // The split is applied per request; the log names the revision that answered.
    const revision = pickRevision(service);
    return options.forwarder.forward(options.instances, service, revision, req, res, headers).then((outcome) => {
      if (outcome.kind === "client-error") {
        // The body may be half read: the connection cannot carry another request.
        const page = outcome.status === 413 ? payloadTooLargePage() : badRequestPage();
        const size = sendPage(res, outcome.status, page, { connection: "close" });
        log(req, service, path, started, {
          revision,
          status: outcome.status,
          responseSize: size,
          principalEmail: email,
        });
      } else if (outcome.kind === "instance-failed") {
        const size = sendPage(res, 500, serverErrorPage());
        log(req, service, path, started, {
          revision,
          status: 500,
          responseSize: size,
          principalEmail: email,
          textPayload: LOG_TEXT.instanceFailed,
        });
      } else if (outcome.kind === "no-capacity") {
        const size = sendPage(res, 429, tooManyRequestsPage());
        log(req, service, path, started, {
          revision,
          status: 429,
          responseSize: size,
          principalEmail: email,
          textPayload: LOG_TEXT.noInstance,
        });
      } else {
        log(req, service, path, started, {
          revision,
          status: outcome.status,
          responseSize: outcome.responseSize,
          principalEmail: email,
        });
      }
    });
  };

  const failed = (res: ServerResponse) => () => {
    sendPage(res, 500, serverErrorPage());
  };

  const frontEnd: FrontEnd = (req, res, route = {}) => {
    const started = clock.now();
    // Google's front end forwards origin-form targets only: an absolute-form one becomes its path, anything
    // else (`*`, `http://`, `x`...) is a malformed request, answered before it can reach an app.
    if (!req.url?.startsWith("/")) {
      const url = req.url && /^https?:\/\//i.test(req.url) ? parseRequestUrl(req.url) : undefined;
      if (!url) {
        req.resume();
        sendPage(res, 400, badRequestPage(), { connection: "close" });
        return;
      }
      req.url = `${url.pathname}${url.search}`;
    }
    const path = req.url;
    // Over Cloud Run's request size, refused before anything else and before the body is sent (Expect).
    if (declaredTooLarge(req)) {
      sendPage(res, 413, payloadTooLargePage(), { connection: "close" });
      return;
    }
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
    // Then IAP, when it is on the service itself (Cloud Run's order: ingress, IAP, IAM).
    if (service.iapEnabled && !route.iapPassed && options.directIap) {
      options.directIap(req, res, service, route, frontEnd);
      return;
    }
    let pending: Promise<void> | undefined;
    try {
      const verdict = decideInvokeNow(invokeDeps, service, req.rawHeaders, req.socket);
      pending =
        "then" in verdict
          ? verdict.then((v) => proceed(req, res, route, service, path, started, v))
          : proceed(req, res, route, service, path, started, verdict);
    } catch (error) {
      pending = Promise.reject(error as Error);
    }
    pending?.catch(failed(res));
  };
  return frontEnd;
}
