// The egress proxy an instance's HTTP(S)_PROXY points at. It never resolves a name and never connects anywhere
// its `decide` function did not choose: requests to *.run.app are answered in-process by the front end (TLS
// terminated with runguard's local CA), loopback targets can be forwarded to, everything else is refused, as
// an unreachable network would be.
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { TLSSocket } from "node:tls";
import type { Duplex } from "node:stream";
import { connect, type AddressInfo, type Socket } from "node:net";
import type { LocalCa } from "./local-ca.js";

export interface EgressTarget {
  scheme: "http" | "https";
  host: string;
  port: number;
}

export type EgressDecision =
  | { kind: "handle"; handler: (req: IncomingMessage, res: ServerResponse) => void }
  | { kind: "forward"; host: string; port: number }
  | { kind: "refuse"; reason: string };

export interface EgressProxy {
  listen(host?: string, port?: number): Promise<{ port: number }>;
  listenPath(path: string): Promise<void>;
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

function parseAuthority(authority: string, defaultPort: number): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(authority);
  return { host: (match?.[1] ?? authority).toLowerCase(), port: Number(match?.[2] ?? defaultPort) };
}

function forwardTo(req: IncomingMessage, res: ServerResponse, host: string, port: number): void {
  if (!LOOPBACK.test(host)) {
    res.writeHead(502, { "content-type": "text/plain" });
    res.end("runguard egress: refusing a non-loopback target\n");
    return;
  }
  const upstream = request({ host, port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
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

export function createEgressProxy(options: {
  ca: LocalCa;
  decide: (target: EgressTarget) => EgressDecision;
}): EgressProxy {
  const tunnels = new WeakMap<Socket, EgressDecision>();
  const apply = (decision: EgressDecision, req: IncomingMessage, res: ServerResponse) => {
    if (decision.kind === "handle") decision.handler(req, res);
    else if (decision.kind === "forward") forwardTo(req, res, decision.host, decision.port);
    else refuse(res, decision.reason);
  };

  // Decrypted requests from intercepted CONNECT tunnels.
  const inner = createServer((req, res) => {
    const decision = tunnels.get(req.socket);
    if (!decision) return refuse(res, "no tunnel");
    apply(decision, req, res);
  });

  const outer = createServer((req, res) => {
    if (!/^http:\/\//i.test(req.url ?? "")) return refuse(res, "not a proxy request");
    const url = new URL(req.url ?? "");
    const { host, port } = parseAuthority(url.host, 80);
    req.url = `${url.pathname}${url.search}`;
    req.headers.host = url.host;
    delete req.headers["proxy-connection"];
    delete req.headers["proxy-authorization"];
    apply(options.decide({ scheme: "http", host, port }), req, res);
  });

  outer.on("connect", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const { host, port } = parseAuthority(req.url ?? "", 443);
    const decision = options.decide({ scheme: "https", host, port });
    socket.on("error", () => socket.destroy());
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
  outer.on("clientError", (_error, socket) => socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n"));

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
