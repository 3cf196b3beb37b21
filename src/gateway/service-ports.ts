// A loopback port per service, for clients that cannot set the Host header: everything sent to
// 127.0.0.1:PORT is handled as a request to that service's URL. Ports are remembered in the store so that a
// service keeps its port across restarts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Store } from "../store/store.js";
import type { StoredService } from "../run/types.js";
import type { ServiceDirectory } from "./directory.js";
import type { FrontEnd } from "./front-end.js";
import { guardListener } from "./request-body.js";

export interface ServicePorts {
  portOf(serviceResource: string): number | undefined;
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

export async function startServicePorts(options: {
  store: Store;
  directory: ServiceDirectory;
  frontEnd: FrontEnd;
  host: string;
}): Promise<ServicePorts> {
  const { store, directory, frontEnd, host } = options;
  const servers = new Map<string, { server: Server; port: number }>();

  const open = async (resource: string) => {
    if (servers.has(resource)) return;
    const serve = (req: IncomingMessage, res: ServerResponse) => {
      const pinned = directory.byResource(resource);
      if (pinned) frontEnd(req, res, { pinned });
      else {
        res.writeHead(404);
        res.end();
      }
    };
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

  for (const service of await store.list<StoredService>("service")) await open(service.resource);
  const unsubscribe = store.onChange((change) => {
    if (change.kind !== "service") return;
    if (change.value) void open(change.name).catch(() => undefined);
    else {
      void close(change.name);
      void store.transact(async (tx) => tx.delete("setting", recordName(change.name)));
    }
  });
  return {
    portOf: (resource) => servers.get(resource)?.port || undefined,
    async close() {
      unsubscribe();
      await Promise.all([...servers.keys()].map(close));
    },
  };
}
