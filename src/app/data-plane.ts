// The data plane: the front end in front of every service, fed by the store's cached state.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Platform } from "../core/platform.js";
import { createServiceDirectory, type ServiceDirectory } from "../gateway/directory.js";
import { createFrontEnd, type FrontEnd } from "../gateway/front-end.js";
import { createForwarder } from "../gateway/forward.js";
import { createRequestLog } from "../gateway/request-log.js";
import type { InstanceProvider } from "../gateway/forward.js";
import type { TrafficSource } from "../gateway/ingress.js";
import { startServicePorts, type ServicePorts } from "../gateway/service-ports.js";
import { createIapGateway } from "../iap/iap-gateway.js";
import type { IapSigner } from "../iap/iap-jwt.js";

export interface DataPlane {
  frontEndUrl: string;
  /** The load balancer's listener (IAP). */
  loadBalancerUrl: string;
  /** The front end itself, for in-process callers (the egress proxy answering *.run.app). */
  frontEnd: FrontEnd;
  directory: ServiceDirectory;
  /** A loopback port per service, for clients that cannot set Host. */
  servicePorts: ServicePorts;
  /** Writes pending request logs now (tests and shutdown). */
  flushLogs(): Promise<void>;
  close(): Promise<void>;
}

export async function startDataPlane(
  platform: Platform,
  instances: InstanceProvider,
  options: { host: string; port: number; lbPort: number; signer: IapSigner },
): Promise<DataPlane> {
  const directory = await createServiceDirectory(platform.store);
  const forwarder = createForwarder();
  const requestLog = createRequestLog(platform.store);
  const external: TrafficSource = { kind: "external" };
  const frontEnd = createFrontEnd({
    directory,
    engine: platform.engine,
    tokens: platform.tokens,
    subjects: platform.subjects,
    instances,
    forwarder,
    requestLog,
    clock: platform.clock,
    classifySource: () => external,
  });
  // Cloud Run accepts request headers up to 64 KiB.
  const server = createServer({ keepAliveTimeout: 65_000, maxHeaderSize: 64 * 1024 }, (req, res) => frontEnd(req, res));
  const servicePorts = await startServicePorts({ store: platform.store, directory, frontEnd, host: options.host });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve((server.address() as AddressInfo).port));
  });
  const iap = createIapGateway({ platform, directory, frontEnd, signer: options.signer });
  const lb = createServer({ keepAliveTimeout: 65_000, maxHeaderSize: 64 * 1024 }, (req, res) => {
    iap(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const lbPort = await new Promise<number>((resolve, reject) => {
    lb.once("error", reject);
    lb.listen(options.lbPort, options.host, () => resolve((lb.address() as AddressInfo).port));
  });
  return {
    frontEndUrl: `http://${options.host}:${port}`,
    loadBalancerUrl: `http://${options.host}:${lbPort}`,
    frontEnd,
    servicePorts,
    directory,
    flushLogs: () => requestLog.flush(),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await new Promise<void>((resolve) => {
        lb.close(() => resolve());
        lb.closeAllConnections();
      });
      await servicePorts.close();
      await requestLog.close();
      await forwarder.close();
      directory.close();
    },
  };
}

export type { Server };
