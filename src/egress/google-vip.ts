// The Google API virtual address inside an instance's network namespace (199.36.153.4, the address of
// restricted.googleapis.com). The namespace's DNS sends *.googleapis.com, www.gstatic.com and *.run.app there, so
// clients that ignore proxy variables arrive here directly: on port 443 TLS is terminated with a certificate from
// runguard's local CA for the name the client asked for (SNI), on port 80 the request is plain HTTP. Each request
// then gets the very decision the instance's egress proxy would give it (egress-policy.ts).
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createSecureContext, type SecureContext, type TLSSocket } from "node:tls";
import type { LocalCa } from "../network/local-ca.js";
import { answerClientErrors } from "../http/client-errors.js";
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
  const contextFor = (servername: string): Promise<SecureContext> => {
    const name = servername.toLowerCase();
    let context = contexts.get(name);
    if (!context) {
      context = options.ca.certificateFor(name).then(({ key, cert }) => createSecureContext({ key, cert }));
      contexts.set(name, context);
      context.catch(() => contexts.delete(name));
    }
    return context;
  };
  const https = createHttpsServer(
    {
      // Only names runguard answers get a certificate; anything else (or no SNI at all) fails the handshake.
      SNICallback: (servername, done) => {
        if (!served("https", servername.toLowerCase())) return done(new Error(`no certificate for ${servername}`));
        contextFor(servername).then(
          (context) => done(null, context),
          (error: Error) => done(error),
        );
      },
    },
    answer("https"),
  );
  const http = createHttpServer(answer("http"));
  https.on("tlsClientError", (_error, socket) => socket.destroy());
  answerClientErrors(https);
  answerClientErrors(http);

  const listen = (server: typeof http | typeof https, path: string) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
  const close = (server: typeof http | typeof https) =>
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
      await Promise.all([close(https), close(http)]);
    },
  };
}
