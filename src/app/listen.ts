// Binding runguard's listeners: a port that cannot be had stops the start at once with the port, what it is
// for and the option that changes it, instead of an EADDRINUSE stack with the other listeners left serving.
import type { Server } from "node:net";
import type { AddressInfo } from "node:net";
import { StartupError } from "../core/errors.js";

/** What a listener is, for the message: e.g. { name: "front end", option: "--front-end-port" }. */
export interface ListenerRole {
  name: string;
  option: string;
}

export const LISTENERS = {
  controlPlane: { name: "control plane", option: "--port" },
  frontEnd: { name: "front end", option: "--front-end-port" },
  loadBalancer: { name: "load balancer HTTP", option: "--lb-port" },
  loadBalancerHttps: { name: "load balancer HTTPS", option: "--lb-https-port" },
} satisfies Record<string, ListenerRole>;

export function listenAs(server: Server, port: number, host: string, role: ListenerRole): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE")
        reject(new StartupError(`port ${port} (${role.name}) is in use: choose another with ${role.option}`));
      else if (error.code === "EACCES")
        reject(new StartupError(`port ${port} (${role.name}) is not allowed here: choose another with ${role.option}`));
      else reject(error);
    });
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Closes a server and its open connections (also one that never got to listen). */
export function closeServer(server: Server & { closeAllConnections?(): void }): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
