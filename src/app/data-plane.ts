// The data plane: the front end in front of every service, fed by the store's cached state, and the load
// balancer (IAP) in front of it. Built on ports bound beforehand; it answers on them once serve() is called.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createSecureContext } from "node:tls";
import type { BoundPort } from "./listen.js";
import type { Platform } from "./platform.js";
import type { ServiceDirectory } from "../gateway/directory.js";
import { createFrontEnd, type FrontEnd } from "../gateway/front-end.js";
import { createForwarder } from "../gateway/forward.js";
import { createRequestLog, type RequestWatcher } from "../gateway/request-log.js";
import type { InstanceProvider } from "../runtime/instance-lease.js";
import type { TrafficSource } from "../network/traffic-source.js";
import { servicePortHandler } from "../gateway/service-ports.js";
import { createServicePorts, type ServicePorts } from "./service-ports.js";
import { createLoadBalancerListener } from "../gateway/load-balancer.js";
import type { IapStage } from "../gateway/iap-stage.js";
import type { IapAccounts } from "../iap/iap-accounts.js";
import type { LocalCa } from "../network/local-ca.js";
import { guardListener } from "../gateway/request-body.js";

export interface DataPlanePorts {
  frontEnd: BoundPort;
  loadBalancer: BoundPort;
  loadBalancerHttps: BoundPort;
}

export interface DataPlane {
  frontEndUrl: string;
  /** The load balancer's listeners (IAP): plain HTTP for tools, HTTPS as on Google Cloud. */
  loadBalancerUrl: string;
  loadBalancerHttpsUrl: string;
  /** The front end itself, for in-process callers (the egress proxy answering *.run.app). */
  frontEnd: FrontEnd;
  /** The routing the front end reads (owned by the caller, which closes it). */
  directory: ServiceDirectory;
  /** A loopback port per service, for clients that cannot set Host. */
  servicePorts: ServicePorts;
  /** Starts answering: on the bound ports, and on a port per service. */
  serve(): Promise<void>;
  /** Writes pending request logs (and users IAP saw first) now (tests and shutdown). */
  flushLogs(): Promise<void>;
  close(): Promise<void>;
}

export function createDataPlane(
  platform: Platform,
  options: {
    host: string;
    ports: DataPlanePorts;
    directory: ServiceDirectory;
    instances: InstanceProvider;
    ca: LocalCa;
    iap: IapStage;
    /** IAP's cache of users and service agents (owned by the caller): flushed with the logs. */
    iapAccounts: IapAccounts;
    /** Told of every request answered (`runguard up`'s terminal). */
    watchRequests?: RequestWatcher;
  },
): DataPlane {
  const { directory, ports, host } = options;
  const forwarder = createForwarder();
  const requestLog = createRequestLog(platform.store, options.watchRequests);
  const external: TrafficSource = { kind: "external" };
  const frontEnd = createFrontEnd({
    directory,
    engine: platform.engine,
    tokens: platform.tokens,
    subjects: platform.subjects,
    instances: options.instances,
    forwarder,
    requestLog,
    clock: platform.clock,
    classifySource: () => external,
    iap: options.iap,
  });
  // Cloud Run accepts request headers up to 64 KiB.
  const serveFrontEnd = (req: IncomingMessage, res: ServerResponse) => frontEnd(req, res);
  const server = createServer({ keepAliveTimeout: 65_000, maxHeaderSize: 64 * 1024 }, serveFrontEnd);
  guardListener(server, serveFrontEnd);
  const serveLoadBalancer = createLoadBalancerListener({ directory, frontEnd });
  const lb = createServer({ keepAliveTimeout: 65_000, maxHeaderSize: 64 * 1024 }, serveLoadBalancer);
  guardListener(lb, serveLoadBalancer);
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
  const servicePorts = createServicePorts({
    store: platform.store,
    host,
    handlerFor: (resource) => servicePortHandler(directory, frontEnd, resource),
  });
  return {
    frontEndUrl: `http://${host}:${ports.frontEnd.port}`,
    loadBalancerUrl: `http://${host}:${ports.loadBalancer.port}`,
    loadBalancerHttpsUrl: `https://${host}:${ports.loadBalancerHttps.port}`,
    frontEnd,
    directory,
    servicePorts,
    async serve() {
      await ports.frontEnd.serve(server);
      await ports.loadBalancer.serve(lb);
      await ports.loadBalancerHttps.serve(lbHttps);
      await servicePorts.open();
    },
    flushLogs: async () => {
      await requestLog.flush();
      await options.iapAccounts.flush();
    },
    async close() {
      for (const port of [ports.frontEnd, ports.loadBalancer, ports.loadBalancerHttps]) await port.close();
      await servicePorts.close();
      await requestLog.close();
      await forwarder.close();
    },
  };
}

export type { Server };
