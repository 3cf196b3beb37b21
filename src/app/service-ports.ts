// The loopback port of each service (gateway/service-ports.ts answers on it): opened for every service, closed
// when the service is deleted. Ports are remembered in the store so that a service keeps its port across
// restarts; a remembered port that is taken now is replaced by a free one.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Store } from "../store/store.js";
import type { StoredService } from "../run/types.js";
import { guardListener } from "../gateway/request-body.js";

export interface ServicePorts {
  portOf(serviceResource: string): number | undefined;
  /** Opens a port for every service, and from then on for each new one. */
  open(): Promise<void>;
  close(): Promise<void>;
}

interface PortRecord {
  service: string;
  port: number;
}

const recordName = (service: string) => `servicePorts/${service}`;

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export function createServicePorts(options: {
  store: Store;
  host: string;
  /** What answers on a service's port. */
  handlerFor(serviceResource: string): (req: IncomingMessage, res: ServerResponse) => void;
}): ServicePorts {
  const { store, host } = options;
  const servers = new Map<string, { server: Server; port: number }>();

  let unsubscribe = () => {};

  const open = async (resource: string) => {
    if (servers.has(resource)) return;
    const serve = options.handlerFor(resource);
    const server = createServer({ keepAliveTimeout: 65_000, maxHeaderSize: 64 * 1024 }, serve);
    guardListener(server, serve);
    servers.set(resource, { server, port: 0 });
    const remembered = (await store.get<PortRecord>("setting", recordName(resource)))?.port ?? 0;
    const port = await listen(server, host, remembered).catch(() => listen(server, host, 0));
    servers.set(resource, { server, port });
    if (port !== remembered)
      await store.transact(async (tx) => tx.put("setting", recordName(resource), { service: resource, port }));
  };

  const close = async (resource: string) => {
    const entry = servers.get(resource);
    servers.delete(resource);
    if (!entry) return;
    await new Promise<void>((resolve) => {
      entry.server.close(() => resolve());
      entry.server.closeAllConnections();
    });
  };

  return {
    portOf: (resource) => servers.get(resource)?.port || undefined,
    async open() {
      for (const service of await store.list<StoredService>("service")) await open(service.resource);
      unsubscribe = store.onChange((change) => {
        if (change.kind !== "service") return;
        if (change.value) void open(change.name).catch(() => undefined);
        else {
          void close(change.name);
          void store.transact(async (tx) => tx.delete("setting", recordName(change.name)));
        }
      });
    },
    async close() {
      unsubscribe();
      await Promise.all([...servers.keys()].map(close));
    },
  };
}
