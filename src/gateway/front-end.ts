// The front end in front of every service, as a chain of small stages in Cloud Run's order:
// route (Host) → ingress → IAP (when on) → invoker check (token, IAM) → header rewrite → forward to an instance
// → request log. Each check returns its verdict as data; only the front end writes responses.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PolicyEngine } from "../iam/engine.js";
import type { TokenService } from "../tokens/types.js";
import type { Clock } from "../core/clock.js";
import {
  hostOf,
  pickRevision,
  type LoadBalancerRoute,
  type ServiceDirectory,
  type RoutedService,
} from "./directory.js";
import { decideInvoke, type InvokeDeps, type InvokeVerdict } from "./decide-invoke.js";
import { createCredentialReader } from "./credentials.js";
import { admitsSource } from "./ingress.js";
import { ingressReason } from "./refusal-reasons.js";
import type { TrafficSource } from "../network/traffic-source.js";
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
import { SERVERLESS_AUTHORIZATION, clientRawHeaders } from "./client-headers.js";
import { iapProtects, type IapAnswer, type IapStage, type IapVerdict } from "./iap-stage.js";
import type { Forwarder } from "./forward.js";
import type { InstanceProvider } from "../runtime/instance-lease.js";
import type { RequestLog } from "./request-log.js";
import type { RequestLogRow } from "../store/store.js";
import { declaredTooLarge } from "./request-body.js";
import { parseRequestUrl } from "../core/http-input.js";

export interface FrontEndOptions {
  directory: ServiceDirectory;
  engine: Pick<PolicyEngine, "decide">;
  tokens: Pick<TokenService, "verifyIdToken" | "verifyIdTokenCached">;
  subjects: InvokeDeps["subjects"];
  instances: InstanceProvider;
  forwarder: Forwarder;
  requestLog: RequestLog;
  clock: Clock;
  /** Where a request comes from; everything not vouched for by runguard's own network is external. */
  classifySource: (req: IncomingMessage) => TrafficSource;
  /** IAP, for services and backend services that have it on. */
  iap?: IapStage;
}

export interface RouteOptions {
  /** Serve this service whatever the Host (per-service ports). */
  pinned?: RoutedService;
  /** Where the request comes from, when runguard itself knows (its egress proxy, the load balancer). */
  source?: TrafficSource;
  /** The backend service the load balancer routed the request through (its IAP settings apply). */
  backend?: LoadBalancerRoute["backend"];
}

export type FrontEnd = (req: IncomingMessage, res: ServerResponse, route?: RouteOptions) => void;

/** How the front end answered a request, for its log row. */
interface Answer {
  revision: string | undefined;
  status: number;
  responseSize: number | undefined;
  principalEmail: string | undefined;
  /** Why runguard answered itself instead of the service. */
  textPayload?: string | undefined;
  /** runguard's own words for a refusal (refusal-reasons.ts). */
  reason?: string | undefined;
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

/** IAP's own answer, written as IAP gave it. */
function sendIapAnswer(req: IncomingMessage, res: ServerResponse, answer: IapAnswer): void {
  req.resume();
  res.writeHead(answer.status, answer.headers);
  if (answer.body === undefined) res.end();
  else res.end(answer.body);
}

/** A failure inside IAP: a bare 500, as IAP gives. */
function sendIapFailure(res: ServerResponse): void {
  if (!res.headersSent) res.writeHead(500);
  res.end();
}

type IapPass = Extract<IapVerdict, { pass: true }>;

export function createFrontEnd(options: FrontEndOptions): FrontEnd {
  const requestHeadersForInstance = createHeaderRewriter();
  const invokeDeps = { ...options, readCredential: createCredentialReader() };
  const { clock, requestLog } = options;

  /** One request log row per request (store/store.ts); the LogEntry is made of it only when logs are read. */
  const rowOf = (
    req: IncomingMessage,
    service: RoutedService,
    path: string,
    started: number,
    answer: Answer,
  ): RequestLogRow => {
    const contentLength = req.headers["content-length"];
    return {
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
      reason: answer.reason,
    };
  };
  const log = (req: IncomingMessage, service: RoutedService, path: string, started: number, answer: Answer) =>
    requestLog.write(rowOf(req, service, path, started, answer));

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
      reason: verdict.reason,
    });
  };

  const proceed = async (
    req: IncomingMessage,
    res: ServerResponse,
    route: RouteOptions,
    service: RoutedService,
    path: string,
    started: number,
    verdict: Extract<InvokeVerdict, { allowed: true }>,
    iapPass: IapPass | undefined,
  ): Promise<void> => {
    const headers = requestHeadersForInstance(req.headers, {
      clientIp: req.socket.remoteAddress ?? "",
      // Behind a per-service port the Host is a loopback address; the app sees its service URL's host.
      host: route.pinned ? new URL(service.urls[0] ?? "http://localhost").hostname : hostOf(req.headers.host),
      dropServerlessAuthorization: verdict.public,
      ...(verdict.public ? {} : { checked: { header: verdict.header, value: verdict.forwardedValue } }),
      behindProxy: route.backend !== undefined || iapPass !== undefined,
      ...(iapPass ? { iap: { cookie: iapPass.cookie, identityHeaders: iapPass.identityHeaders } } : {}),
    });
    const email = verdict.public ? verdict.caller : verdict.principal.email;
    // The split is applied per request; the log names the revision that answered.
    const revision = pickRevision(service);
    const outcome = await options.forwarder.forward(options.instances, service, revision, req, res, headers);
    if (outcome.kind === "client-error") {
      // The body may be half read: the connection cannot carry another request.
      const page = outcome.status === 413 ? payloadTooLargePage() : badRequestPage();
      const size = sendPage(res, outcome.status, page, { connection: "close" });
      log(req, service, path, started, { revision, status: outcome.status, responseSize: size, principalEmail: email });
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
  };

  /** IAP's verdict; undefined once the request was answered (by IAP, or with IAP's 500 when it failed). */
  const passIap = async (
    req: IncomingMessage,
    res: ServerResponse,
    iap: IapStage,
    service: RoutedService,
    backend: RouteOptions["backend"],
    started: number,
  ): Promise<IapPass | undefined> => {
    let verdict: IapVerdict;
    try {
      verdict = await iap.check(req, service, backend);
    } catch {
      sendIapFailure(res);
      return undefined;
    }
    if (verdict.pass) return verdict;
    sendIapAnswer(req, res, verdict.answer);
    // IAP answers before Cloud Run sees the request: stored marked unlogged (runguard logs, never the Logging API).
    if (verdict.refusal) {
      requestLog.refusedUnlogged(
        rowOf(req, service, req.url ?? "/", started, {
          revision: service.revision,
          status: verdict.answer.status,
          responseSize: Buffer.byteLength(verdict.answer.body ?? ""),
          principalEmail: verdict.refusal.principalEmail,
          reason: verdict.refusal.reason,
        }),
      );
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, route: RouteOptions): Promise<void> => {
    const started = clock.now();
    // Through the load balancer, IAP on its backend service answers first: it runs at Google's edge, before
    // Cloud Run's target, size and ingress checks see the request.
    let iapPass: IapPass | undefined;
    if (options.iap && route.pinned && route.backend?.iap.enabled === true) {
      iapPass = await passIap(req, res, options.iap, route.pinned, route.backend, started);
      if (!iapPass) return;
    }
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
    const service = route.pinned ?? options.directory.byHost(hostOf(req.headers.host));
    if (!service) {
      req.resume();
      sendPage(res, 404, notFoundPage(path));
      return;
    }
    // Ingress first: a request from a source the setting does not admit never reaches IAM, and Cloud Run does not
    // log it: stored marked unlogged, with the setting that refused it (runguard logs, a live watcher).
    const source = route.source ?? options.classifySource(req);
    if (!admitsSource(service.ingress, source, service.projectId)) {
      req.resume();
      const size = sendPage(res, 404, notFoundPage(path));
      requestLog.refusedUnlogged(
        rowOf(req, service, path, started, {
          revision: service.revision,
          status: 404,
          responseSize: size,
          principalEmail: undefined,
          reason: ingressReason(service.ingress, source, service.projectId),
        }),
      );
      return;
    }
    // Then IAP on the service itself (direct IAP), unless the load balancer's IAP has already run both.
    if (!iapPass && options.iap && iapProtects(service, route.backend)) {
      iapPass = await passIap(req, res, options.iap, service, route.backend, started);
      if (!iapPass) return;
    }
    // Then Cloud Run's invoker check, of IAP's service agent when IAP let the request through.
    const credentialHeaders = iapPass
      ? [SERVERLESS_AUTHORIZATION, iapPass.serverlessAuthorization]
      : route.backend
        ? clientRawHeaders(req.rawHeaders, true)
        : req.rawHeaders;
    const verdict = await decideInvoke(invokeDeps, service, credentialHeaders, req.socket);
    if (!verdict.allowed) {
      reject(req, res, service, path, started, verdict);
      return;
    }
    await proceed(req, res, route, service, path, started, verdict, iapPass);
  };

  const frontEnd: FrontEnd = (req, res, route = {}) => {
    handle(req, res, route).catch(() => {
      sendPage(res, 500, serverErrorPage());
    });
  };
  return frontEnd;
}
