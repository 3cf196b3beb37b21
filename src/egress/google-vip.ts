// The Google API virtual address inside an instance's network namespace (199.36.153.4, the address of
// restricted.googleapis.com). The namespace's DNS sends *.googleapis.com, www.gstatic.com and *.run.app there, so
// clients that ignore proxy variables arrive here directly: on port 443 TLS is terminated with a certificate from
// runguard's local CA for the name the client asked for (SNI), on port 80 the request is plain HTTP. Each request
// then gets the very decision the instance's egress proxy would give it (egress-policy.ts). A TLS client that
// offers only h2 (gRPC) for a Google API name is handed to the control plane's gRPC gateway.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createSecureContext, type SecureContext, type TLSSocket } from "node:tls";
import type { LocalCa } from "../network/local-ca.js";
import { answerClientErrors } from "../http/client-errors.js";
import { sniffConnections } from "../http/protocol-listener.js";
import { badRequest, parseAuthority, type EgressDecision, type EgressTarget } from "./egress-proxy.js";

/** restricted.googleapis.com's real address: where names of Google's APIs and of Cloud Run resolve inside. */
export const GOOGLE_API_VIP = "199.36.153.4";

export interface GoogleVip {
  /** Serves TLS (what arrives on the address's port 443) and plain HTTP (port 80) on two unix sockets. */
  listenPaths(paths: { https: string; http: string }): Promise<void>;
  close(): Promise<void>;
}

/** A name this address does not serve: the client reached it by an address, or under a name of its own. */
function misdirected(res: ServerResponse, reason: string): void {
  res.writeHead(421, { "content-type": "text/plain", connection: "close" });
  res.end(`runguard egress: ${reason}\n`);
}

export function createGoogleVip(options: { ca: LocalCa; decide: (target: EgressTarget) => EgressDecision }): GoogleVip {
  const served = (scheme: "http" | "https", host: string) =>
    options.decide({ scheme, host, port: scheme === "https" ? 443 : 80 }).kind === "handle";

  const answer = (scheme: "http" | "https") => (req: IncomingMessage, res: ServerResponse) => {
    const authority = parseAuthority(req.headers.host ?? "", scheme === "https" ? 443 : 80);
    if (!authority) return badRequest(res, "missing or malformed Host header");
    if (scheme === "https") {
      // The certificate was made for the SNI name: a request for another host on this connection is misdirected.
      const servername = (req.socket as TLSSocket).servername;
      if (typeof servername !== "string" || servername.toLowerCase() !== authority.host)
        return misdirected(res, `this connection is for ${String(servername)}, not ${authority.host}`);
    }
    const decision = options.decide({ scheme, host: authority.host, port: authority.port });
    if (decision.kind !== "handle")
      return misdirected(
        res,
        decision.kind === "refuse" ? decision.reason : `${authority.host} is not served at ${GOOGLE_API_VIP}`,
      );
    decision.handler(req, res);
  };

  const contexts = new Map<string, Promise<SecureContext>>();
  const contextFor = (servername: string): Promise<SecureContext> | undefined => {
    const name = servername.toLowerCase();
    // Only names runguard answers get a certificate; anything else (or no SNI at all) fails the handshake.
    if (!served("https", name)) return undefined;
    let context = contexts.get(name);
    if (!context) {
      context = options.ca.certificateFor(name).then(({ key, cert }) => createSecureContext({ key, cert }));
      contexts.set(name, context);
      context.catch(() => contexts.delete(name));
    }
    return context;
  };
  // HTTP/2 (gRPC) only where the instance's own decision names something that speaks it: Google's APIs.
  const h2Of = (servername: string) => {
    const decision = options.decide({ scheme: "https", host: servername, port: 443 });
    return decision.kind === "handle" ? decision.h2 : undefined;
  };
  const https = createHttpServer(answer("https"));
  const http = createHttpServer(answer("http"));
  const sniffed = (server: typeof http, clear: boolean) =>
    sniffConnections(server, {
      contextFor,
      h2For: (servername) => h2Of(servername) !== undefined,
      h2: (connection) => {
        const servername = (connection as TLSSocket).servername;
        const take = typeof servername === "string" ? h2Of(servername) : undefined;
        if (take) take(connection);
        else connection.destroy();
      },
      // Port 443 is TLS only, port 80 plain HTTP only (Google serves gRPC only over TLS).
      tls: !clear,
      clear,
      h2c: false,
    });
  const listeners = [sniffed(https, false), sniffed(http, true)];
  answerClientErrors(https);
  answerClientErrors(http);

  const listen = (server: typeof http, path: string) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
  const close = (server: typeof http) =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    async listenPaths(paths) {
      await listen(https, paths.https);
      await listen(http, paths.http);
    },
    async close() {
      for (const listener of listeners) listener.close();
      await Promise.all([close(https), close(http)]);
    },
  };
}
