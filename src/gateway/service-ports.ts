// A loopback port per service, for clients that cannot set the Host header: everything sent to
// 127.0.0.1:PORT is handled as a request to that service's URL. This is what answers on such a port; app/
// binds the ports (app/service-ports.ts).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServiceDirectory } from "./directory.js";
import type { FrontEnd } from "./front-end.js";

/** Requests on a service's own port go to that service through the front end, whatever their Host. */
export function servicePortHandler(
  directory: ServiceDirectory,
  frontEnd: FrontEnd,
  serviceResource: string,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const pinned = directory.byResource(serviceResource);
    if (pinned) frontEnd(req, res, { pinned });
    else {
      res.writeHead(404);
      res.end();
    }
  };
}
