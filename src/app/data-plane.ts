// The data plane: the front end in front of every service, fed by the store's cached state.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createSecureContext } from "node:tls";
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
import { createDirectIap } from "../iap/direct-iap.js";
import type { IapCheck } from "../iap/iap-check.js";
import type { LocalCa } from "../network/local-ca.js";
import { guardListener } from "../gateway/request-body.js";

export interface DataPlane {
  frontEndUrl: string;
  /** The load balancer's listeners (IAP): plain HTTP for tools, HTTPS as on Google Cloud. */
  loadBalancerUrl: string;
  loadBalancerHttpsUrl: string;
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
  options: {
    host: string;
    port: number;
    lbPort: number;
    lbHttpsPort: number;
    ca: LocalCa;
    iap: IapCheck;
  },
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
    directIap: createDirectIap(options.iap),
  });
  // Cloud Run accepts request headers up to 64 KiB.
  const serveFrontEnd = (req: IncomingMessage, res: ServerResponse) => frontEnd(req, res);
  const server = createServer({ keepAliveTimeout: 65_000, maxHeaderSize: 64 * 1024 }, serveFrontEnd);
  guardListener(server, serveFrontEnd);
  const servicePorts = await startServicePorts({ store: platform.store, directory, frontEnd, host: options.host });
  const port = await listen(server, options.port, options.host);
  const iap = createIapGateway({ platform, directory, frontEnd, iap: options.iap });
  const serveLoadBalancer = (req: IncomingMessage, res: ServerResponse) => {
    iap(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
  const lb = createServer({ keepAliveTimeout: 65_000, maxHeaderSize: 64 * 1024 }, serveLoadBalancer);
  guardListener(lb, serveLoadBalancer);
  const lbPort = await listen(lb, options.lbPort, options.host);
  // Every mapped domain gets a certificate from the local CA, issued on first use (by SNI).
  const lbHttps = createHttpsServer(
    {
      keepAliveTimeout: 65_000,
      maxHeaderSize: 64 * 1024,
      SNICallback: (name, done) => {
        options.ca.certificateFor(name.toLowerCase()).then(
          (pair) => done(null, createSecureContext(pair)),
          (error: Error) => done(error),
        );
      },
    },
    serveLoadBalancer,
  );
  guardListener(lbHttps, serveLoadBalancer);
  const lbHttpsPort = await listen(lbHttps, options.lbHttpsPort, options.host);
  return {
    frontEndUrl: `http://${options.host}:${port}`,
    loadBalancerUrl: `http://${options.host}:${lbPort}`,
    loadBalancerHttpsUrl: `https://${options.host}:${lbHttpsPort}`,
    frontEnd,
    servicePorts,
    directory,
    flushLogs: () => requestLog.flush(),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      for (const listener of [lb, lbHttps])
        await new Promise<void>((resolve) => {
          listener.close(() => resolve());
          listener.closeAllConnections();
        });
      await servicePorts.close();
      await requestLog.close();
      await forwarder.close();
      directory.close();
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export type { Server };
