// Binding runguard's listeners: a port that cannot be had stops the start at once with the port, what it is
// for and the option that changes it, instead of an EADDRINUSE stack with the other listeners left serving.
// Ports are bound first (bindPort), so that every URL is known before the components that hand it out are
// built; each port is served once everything behind it exists.
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from "node:net";
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

/** A port bound before what answers on it exists. */
export interface BoundPort {
  readonly port: number;
  /** Serves the port with `server`, which takes over the bound socket; connections that waited go to it too. */
  serve(server: Server): Promise<void>;
  /** Stops listening and ends the connections, whether or not the port was served. */
  close(): Promise<void>;
}

export async function bindPort(port: number, host: string, role: ListenerRole): Promise<BoundPort> {
  // Sockets accepted before serve() are held unread, then handed to the server as if it had accepted them.
  const holder = createNetServer({ pauseOnConnect: true });
  const waiting = new Set<Socket>();
  const hold = (socket: Socket) => {
    waiting.add(socket);
    socket.once("close", () => waiting.delete(socket));
  };
  holder.on("connection", hold);
  const bound = await listenAs(holder, port, host, role);
  let served: Server | undefined;
  return {
    port: bound,
    async serve(server) {
      holder.off("connection", hold);
      served = server;
      // listen(handle): documented for a socket that is already bound. Once it is listening (and so counts
      // its connections, for closeAllConnections), it gets the sockets that waited.
      await new Promise<void>((resolve) => server.listen(holder, resolve));
      for (const socket of waiting) {
        server.emit("connection", socket);
        socket.resume();
      }
      waiting.clear();
    },
    async close() {
      if (served) return closeServer(served);
      for (const socket of waiting) socket.destroy();
      await closeServer(holder);
    },
  };
}
