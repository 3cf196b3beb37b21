// Proxies a request to an instance over pooled keep-alive connections (undici), streaming both ways.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { Agent, Pool, type Dispatcher } from "undici";
import type { RoutedService } from "./directory.js";
import { responseHeadersForClient, type FlatHeaders } from "./forward-headers.js";
import { createDeadlines, type Deadline, type Deadlines } from "./deadlines.js";
import { BodyTooLargeError, limitBody, sendContinue } from "./request-body.js";
import type { InstanceLease, InstanceProvider } from "../runtime/instance-lease.js";
import { CapacityTimeoutError } from "../runtime/instance-errors.js";

export type ForwardOutcome =
  | { kind: "proxied"; status: number; responseSize?: number }
  | { kind: "instance-failed"; responseSize?: number }
  | { kind: "no-capacity"; responseSize?: number }
  /** What the client sent cannot be forwarded (a target or header undici refuses, a body over 32 MiB). */
  | { kind: "client-error"; status: 400 | 413; responseSize?: number };

/** undici refusing the request itself, before any byte reached the instance: the client's doing. */
const REFUSED_REQUEST = new Set(["UND_ERR_INVALID_ARG", "UND_ERR_NOT_SUPPORTED"]);
/** The instance could not be reached at all: the only failures that say it is broken. */
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOENT", "UND_ERR_CONNECT_TIMEOUT"]);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

export interface Forwarder {
  forward(
    instances: InstanceProvider,
    service: RoutedService,
    /** The revision the split chose for this request (its resource name). */
    revision: string | undefined,
    req: IncomingMessage,
    res: ServerResponse,
    headers: FlatHeaders,
  ): Promise<ForwardOutcome>;
  close(): Promise<void>;
}

/** One keep-alive connection pool per instance address, shared by every request of the front end. */
export function createForwarder(): Forwarder {
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256, pipelining: 1 });
  const socketPools = new Map<string, Pool>();
  const deadlines = createDeadlines();
  const dispatcherFor = (lease: InstanceLease): Dispatcher => {
    if (!lease.socketPath) return agent;
    let pool = socketPools.get(lease.socketPath);
    if (!pool) {
      if (socketPools.size >= 256) {
        const [oldest, evicted] = socketPools.entries().next().value as [string, Pool];
        socketPools.delete(oldest);
        void evicted.close();
      }
      const connectToApp = lease.connect;
      pool = new Pool("http://localhost", {
        socketPath: lease.socketPath,
        keepAliveTimeout: 30_000,
        connections: 256,
        // The socket path keys the pool per instance, so this instance's connector serves all of it.
        ...(connectToApp
          ? {
              connect: (_options: unknown, callback: (...args: [null, Socket] | [Error, null]) => void) => {
                connectToApp().then(
                  (socket) => callback(null, socket),
                  (error: Error) => callback(error, null),
                );
              },
            }
          : {}),
      });
      socketPools.set(lease.socketPath, pool);
    }
    return pool;
  };
  return {
    forward: (instances, service, revision, req, res, headers) =>
      forwardToInstance(dispatcherFor, deadlines, instances, service, revision, req, res, headers),
    async close() {
      deadlines.close();
      await Promise.all([agent.close(), ...[...socketPools.values()].map((p) => p.close())]);
    },
  };
}

async function forwardToInstance(
  dispatcherFor: (lease: InstanceLease) => Dispatcher,
  deadlines: Deadlines,
  instances: InstanceProvider,
  service: RoutedService,
  revision: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  headers: FlatHeaders,
): Promise<ForwardOutcome> {
  if (!revision) return { kind: "instance-failed" };
  let lease: InstanceLease;
  let deadline: Deadline | undefined;
  try {
    lease = await instances.acquire(revision, service.resource);
  } catch (error) {
    req.resume();
    // Every instance busy: 429. An instance that failed to start (InstanceStartError), or any other failure on
    // the way to one: 500.
    return error instanceof CapacityTimeoutError ? { kind: "no-capacity" } : { kind: "instance-failed" };
  }
  try {
    const method = req.method ?? "GET";
    const chunked = req.headers["transfer-encoding"] !== undefined;
    const hasBody = Number(req.headers["content-length"] ?? 0) > 0 || chunked;
    // Admitted, and an instance is ready: now the client may send the body it announced with Expect.
    if (hasBody) sendContinue(res);
    let status = 0;
    let responseSize: number | undefined;
    deadline = deadlines.forRequest(service.timeoutMs);
    // stream() writes the instance's answer straight into our response, without intermediate streams.
    await dispatcherFor(lease).stream(
      {
        origin: lease.socketPath ? "http://localhost" : `http://${lease.host}:${lease.port}`,
        path: req.url ?? "/",
        method: method as "GET",
        headers,
        // A declared length is enforced by Node's parser (and checked by the front end); a chunked body is
        // counted as it streams.
        body: hasBody ? (chunked ? limitBody(req) : req) : null,
        // The service's timeout bounds the whole answer (deadlines.ts), not undici's header and body waits.
        signal: deadline,
        headersTimeout: 0,
        bodyTimeout: 0,
      },
      ({ statusCode, headers: upstreamHeaders }) => {
        status = statusCode;
        const length = upstreamHeaders["content-length"];
        if (typeof length === "string") responseSize = Number(length);
        res.writeHead(statusCode, responseHeadersForClient(upstreamHeaders));
        return res;
      },
    );
    return { kind: "proxied", status, ...(responseSize === undefined ? {} : { responseSize }) };
  } catch (error) {
    // A client that hangs up mid-answer says nothing about the instance, which goes on serving others. A
    // deadline that cuts an answer destroys the response too, but that is the timeout, not the client. The
    // deadline itself says so: cut after its headers, the answer fails with the response's premature close,
    // not with the deadline's error.
    const timedOut = deadline?.aborted === true;
    const clientGone = !timedOut && (res.destroyed || req.socket.destroyed || (req.destroyed && !req.complete));
    if (timedOut && !res.headersSent && !res.destroyed) {
      res.writeHead(504, { "content-type": "text/plain" });
      res.end("upstream request timeout");
      return { kind: "proxied", status: 504 };
    }
    const code = codeOf(error);
    if (!res.headersSent && !res.destroyed) {
      if (error instanceof BodyTooLargeError || (error as Error | undefined)?.cause instanceof BodyTooLargeError)
        return { kind: "client-error", status: 413 };
      if (code && REFUSED_REQUEST.has(code)) return { kind: "client-error", status: 400 };
    }
    // Only an instance that cannot be reached is replaced: resets, aborted uploads and malformed bodies are
    // about one request (and a crashed instance is removed when its process exits).
    if (!clientGone && !timedOut && code && UNREACHABLE.has(code)) lease.markBroken();
    if (res.headersSent || clientGone || res.destroyed) {
      res.destroy();
      return { kind: "proxied", status: clientGone || !res.headersSent ? CLIENT_CLOSED : res.statusCode };
    }
    return { kind: "instance-failed" };
  } finally {
    lease.release();
  }
}

/** The request log's status for a client that closed the connection first (as nginx and Google's load balancers log it). */
const CLIENT_CLOSED = 499;
