// The control-plane port speaks every protocol Google's endpoints do (http/protocol-listener.ts): HTTP/1.1 as
// gcloud's HTTP proxy (absolute-form http:// targets), TLS with a certificate from the local CA for the Google
// API and *.run.app names, h2 (TLS or h2c) for gRPC, and `CONNECT host:443` for those names, whose tunnel is
// served as a new connection to that host. Requests for *.run.app go to the front end, as from inside.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { createSecureContext, type SecureContext, type TLSSocket } from "node:tls";
import type { LocalCa } from "../network/local-ca.js";
import type { GrpcGateway } from "../control-plane/grpc/gateway.js";
import { isServedHost, refuseConnect, tunnelHostOf } from "../control-plane/server.js";
import { sniffConnections } from "../http/protocol-listener.js";
import { parseAuthority } from "../egress/egress-proxy.js";
import { parseRequestUrl } from "../core/http-input.js";

const MAX_CACHED_CONTEXTS = 1000;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface ApiListener {
  /** The request handler of the port: run.app hosts to the front end, the rest to `controlPlane`. */
  serve(controlPlane: Handler): Handler;
  close(): void;
}

/** The host a request is for: its absolute-form target's, else its Host header's. */
function requestHost(req: IncomingMessage): string | undefined {
  const raw = req.url ?? "";
  if (/^https?:\/\//i.test(raw)) return parseRequestUrl(raw)?.hostname.toLowerCase();
  return parseAuthority(req.headers.host ?? "", 80)?.host;
}

export function serveEveryProtocol(server: Server, ca: LocalCa, grpc: GrpcGateway, serveRunApp: Handler): ApiListener {
  const contexts = new Map<string, Promise<SecureContext>>();
  const contextFor = (name: string): Promise<SecureContext> | undefined => {
    if (!isServedHost(name)) return undefined;
    let context = contexts.get(name);
    if (!context) {
      // Any number of names can be asked for: the cache is bounded, a name asked again is signed again.
      if (contexts.size >= MAX_CACHED_CONTEXTS) contexts.clear();
      context = ca.certificateFor(name).then((pair) => createSecureContext(pair));
      contexts.set(name, context);
      context.catch(() => contexts.delete(name));
    }
    return context;
  };
  const listener = sniffConnections(server, {
    contextFor,
    // Cloud Run services answer HTTP/1.1 here; gRPC is for Google's APIs.
    h2For: (name) => isServedHost(name) && !name.endsWith(".run.app"),
    h2: (connection) => grpc.injectConnection(connection),
    h2c: true,
  });
  server.on("connect", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const host = tunnelHostOf(req);
    if (!host) return refuseConnect(req, socket);
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) socket.unshift(head);
    listener.accept(socket, { servername: host, tlsOnly: true });
  });
  return {
    serve: (controlPlane) => (req, res) => {
      const host = requestHost(req);
      const servername = (req.socket as Partial<TLSSocket>).encrypted
        ? (req.socket as TLSSocket).servername
        : undefined;
      // The certificate was made for the SNI name: a request for another host on this connection is misdirected.
      if (typeof servername === "string" && host !== servername.toLowerCase()) {
        res.writeHead(421, { "content-type": "text/plain", connection: "close" });
        res.end(`this connection is for ${servername}, not ${String(host)}\n`);
        req.resume();
        return;
      }
      if (host?.endsWith(".run.app")) return serveRunApp(req, res);
      controlPlane(req, res);
    },
    close: () => listener.close(),
  };
}
