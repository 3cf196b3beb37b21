// The egress proxy an instance's HTTP(S)_PROXY points at. It never resolves a name and never connects anywhere
// its `decide` function did not choose: requests to *.run.app are answered in-process by the front end (TLS
// terminated with runguard's local CA), loopback targets can be forwarded to, everything else is refused, as
// an unreachable network would be.
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { TLSSocket } from "node:tls";
import type { Duplex } from "node:stream";
import { connect, type AddressInfo, type Socket } from "node:net";
import type { LocalCa } from "../network/local-ca.js";
import { parseRequestUrl } from "../core/http-input.js";
import { answerClientErrors } from "../http/client-errors.js";

export interface EgressTarget {
  /** "tcp": a raw connection to a private address inside the instance's namespace (egress/private-tcp.ts). */
  scheme: "http" | "https" | "tcp";
  host: string;
  port: number;
}

export type EgressDecision =
  | {
      kind: "handle";
      handler: (req: IncomingMessage, res: ServerResponse) => void;
      /** What answers an HTTP/2 connection for this host (the gRPC gateway), when anything does. */
      h2?: (connection: Duplex) => void;
    }
  | { kind: "forward"; host: string; port: number }
  | { kind: "refuse"; reason: string };

export interface EgressProxy {
  listen(host?: string, port?: number): Promise<{ port: number }>;
  listenPath(path: string): Promise<void>;
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

/** The only hosts a decision may forward to: the loopback endpoints that stand for private resources. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host);
}

/** `host:port` of a request target; undefined when it is not one (no host, a port out of range). */
export function parseAuthority(authority: string, defaultPort: number): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]+?)\]?(?::(\d{1,5}))?$/.exec(authority);
  const port = Number(match?.[2] ?? defaultPort);
  if (!match?.[1] || port < 1 || port > 65535) return undefined;
  return { host: match[1].toLowerCase(), port };
}

/** A request no proxy could act on: the client's mistake, so a 400 (as Squid and Envoy answer), never a 5xx. */
export function badRequest(res: ServerResponse, reason: string): void {
  res.writeHead(400, { "content-type": "text/plain", connection: "close" });
  res.end(`runguard egress: ${reason}\n`);
}

function forwardTo(req: IncomingMessage, res: ServerResponse, host: string, port: number): void {
  if (!LOOPBACK.test(host)) {
    res.writeHead(502, { "content-type": "text/plain" });
    res.end("runguard egress: refusing a non-loopback target\n");
    return;
  }
  let upstream: ReturnType<typeof request>;
  try {
    upstream = request({ host, port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
  } catch {
    // Node refuses to send what it would not have parsed (a path or header it deems invalid).
    return badRequest(res, "malformed request");
  }
  upstream.on("error", () => {
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
    res.end();
  });
  req.pipe(upstream);
}

function refuse(res: ServerResponse, reason: string): void {
  res.writeHead(502, { "content-type": "text/plain", connection: "close" });
  res.end(`runguard egress: ${reason}\n`);
}

/** Carries out a decision for one request: answered in-process, forwarded to loopback, or refused (502). */
export function applyDecision(decision: EgressDecision, req: IncomingMessage, res: ServerResponse): void {
  if (decision.kind === "handle") decision.handler(req, res);
  else if (decision.kind === "forward") forwardTo(req, res, decision.host, decision.port);
  else refuse(res, decision.reason);
}

export function createEgressProxy(options: {
  ca: LocalCa;
  decide: (target: EgressTarget) => EgressDecision;
}): EgressProxy {
  const tunnels = new WeakMap<Socket, EgressDecision>();

  // Decrypted requests from intercepted CONNECT tunnels.
  const inner = createServer((req, res) => {
    const decision = tunnels.get(req.socket);
    if (!decision) return refuse(res, "no tunnel");
    applyDecision(decision, req, res);
  });

  const outer = createServer((req, res) => {
    if (!/^http:\/\//i.test(req.url ?? "")) return badRequest(res, "not a proxy request");
    const url = parseRequestUrl(req.url ?? "");
    const authority = url && parseAuthority(url.host, 80);
    if (!url || !authority) return badRequest(res, "malformed request target");
    const { host, port } = authority;
    req.url = `${url.pathname}${url.search}`;
    req.headers.host = url.host;
    delete req.headers["proxy-connection"];
    delete req.headers["proxy-authorization"];
    applyDecision(options.decide({ scheme: "http", host, port }), req, res);
  });

  outer.on("connect", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const authority = parseAuthority(req.url ?? "", 443);
    if (!authority) {
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      return;
    }
    const { host, port } = authority;
    const decision = options.decide({ scheme: "https", host, port });
    if (decision.kind === "refuse") {
      // The reason is the app developer's only clue why the tunnel failed (curl -v and proxy errors show it).
      const body = `runguard egress: CONNECT ${host}:${port} refused: ${decision.reason}\n`;
      socket.end(
        `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    if (decision.kind === "forward") {
      // A private resource: a plain TCP tunnel to the loopback endpoint that stands for it.
      if (!LOOPBACK.test(decision.host)) return void socket.destroy();
      const upstream = connect({ host: decision.host, port: decision.port }, () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (head.length > 0) upstream.write(head);
        socket.pipe(upstream).pipe(socket);
      });
      upstream.on("error", () => socket.destroy());
      socket.on("close", () => upstream.destroy());
      return;
    }
    options.ca.certificateFor(host).then(
      ({ key, cert }) => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (head.length > 0) socket.unshift(head);
        const tlsSocket = new TLSSocket(socket as Socket, { isServer: true, key, cert });
        tlsSocket.on("error", () => tlsSocket.destroy());
        tunnels.set(tlsSocket, decision);
        inner.emit("connection", tlsSocket);
      },
      () => socket.destroy(),
    );
  });
  answerClientErrors(outer);
  answerClientErrors(inner);

  return {
    listen(host = "127.0.0.1", port = 0) {
      return new Promise((resolve, reject) => {
        outer.once("error", reject);
        outer.listen(port, host, () => resolve({ port: (outer.address() as AddressInfo).port }));
      });
    },
    listenPath(path) {
      return new Promise((resolve, reject) => {
        outer.once("error", reject);
        outer.listen(path, () => resolve());
      });
    },
    close() {
      return new Promise((resolve) => {
        outer.close(() => resolve());
        outer.closeAllConnections();
        inner.closeAllConnections();
      });
    },
  };
}
