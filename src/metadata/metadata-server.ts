// A metadata server per instance: the only identity an instance can obtain is its own service account's.
// Requests need `Metadata-Flavor: Google`; responses always carry it (the Node and Python libraries check).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createMetadataRouter, type MetadataDeps } from "./metadata-routes.js";
import { parseRequestUrl } from "../core/http-input.js";
import { answerClientErrors } from "../http/client-errors.js";

export type { InstanceIdentity } from "./metadata-routes.js";

export interface MetadataServer {
  listen(host?: string, port?: number): Promise<{ host: string; port: number }>;
  /** Listens on a unix socket (instances in their own network namespace reach it through a relay). */
  listenPath(path: string): Promise<void>;
  close(): Promise<void>;
}

const FLAVOR = { "metadata-flavor": "Google", server: "Metadata Server for Serverless" };

function missingHeaderBody(path: string): string {
  return `Your client does not have permission to get URL <code>${path}</code> from this server. Missing Metadata-Flavor:Google header.\n`;
}

const BAD_REQUEST = "Your client has issued a malformed or illegal request.\n";

export function createMetadataServer(deps: MetadataDeps): MetadataServer {
  const route = createMetadataRouter(deps);
  const server = createServer((req, res) => {
    const send = (status: number, body: string, contentType = "application/text") => {
      res.writeHead(status, { ...FLAVOR, "content-type": contentType, "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    // Only the path matters; a target that is not one (`//[`) is the client's mistake, answered as such.
    const url = parseRequestUrl(req.url ?? "/", "http://metadata.google.internal");
    if (!url) return send(400, BAD_REQUEST, "text/html; charset=UTF-8");
    const flavor = req.headers["metadata-flavor"] === "Google" || req.headers["x-google-metadata-request"] === "True";
    // The real server refuses proxied requests, so an SSRF through a proxy cannot reach it.
    if (!flavor || req.headers["x-forwarded-for"] !== undefined)
      return send(403, missingHeaderBody(url.pathname), "text/html; charset=UTF-8");
    if (req.method !== "GET") return send(405, "Method Not Allowed\n");
    route(url.pathname, url.searchParams).then(
      (reply) => send(reply.status, reply.body, reply.json ? "application/json" : "application/text"),
      () => send(500, "Internal Server Error\n"),
    );
  });
  answerClientErrors(server, () => ({ contentType: "text/html; charset=UTF-8", body: BAD_REQUEST }));
  return {
    listen(host = "127.0.0.1", port = 0) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve({ host, port: (server.address() as AddressInfo).port }));
      });
    },
    listenPath(path) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(path, () => resolve());
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
