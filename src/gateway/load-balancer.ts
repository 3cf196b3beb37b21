// The load balancer's listeners: a domain or URL map routes to a backend service whose serverless NEG points at a
// Cloud Run service; the request then goes through the front end like any other, from the load balancer as its
// source and with the backend service's IAP settings (the front end's IAP stage).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { hostOf, type ServiceDirectory } from "./directory.js";
import type { FrontEnd } from "./front-end.js";
import { IAP_GENERATED, badRequestPage, notFoundPage } from "./pages.js";
import { parseRequestUrl } from "../core/http-input.js";

export function createLoadBalancerListener(options: { directory: ServiceDirectory; frontEnd: FrontEnd }) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = parseRequestUrl(req.url ?? "/", "http://lb");
    if (!url) {
      req.resume();
      res.writeHead(400, { "content-type": "text/html; charset=UTF-8", connection: "close" });
      res.end(badRequestPage());
      return;
    }
    const protocol = (req.socket as Partial<TLSSocket>).encrypted === true ? "HTTPS" : "HTTP";
    const route = options.directory.loadBalancerRoute(protocol, hostOf(req.headers.host), url.pathname);
    if (!route) {
      req.resume();
      res.writeHead(404, { "content-type": "text/html; charset=UTF-8", ...IAP_GENERATED });
      res.end(notFoundPage(req.url ?? "/"));
      return;
    }
    const { service, backend } = route;
    options.frontEnd(req, res, {
      pinned: service,
      source: { kind: "load-balancer", projectId: service.projectId },
      backend,
    });
  };
}
