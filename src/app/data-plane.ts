// The data plane: the front end in front of every service, fed by the store's cached state.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createSecureContext } from "node:tls";
import { LISTENERS, closeServer, listenAs } from "./listen.js";
import type { Platform } from "../core/platform.js";
import { createServiceDirectory, type ServiceDirectory } from "../gateway/directory.js";
import { createFrontEnd, type FrontEnd } from "../gateway/front-end.js";
import { createForwarder } from "../gateway/forward.js";
import { createRequestLog } from "../gateway/request-log.js";
import type { InstanceProvider } from "../gateway/forward.js";
import type { TrafficSource } from "../gateway/ingress.js";
import { startServicePorts, type ServicePorts } from "../gateway/service-ports.js";
import { createLoadBalancerListener } from "../gateway/load-balancer.js";
import { createIapCheck } from "../iap/iap-check.js";
import { openIapAccounts } from "../iap/iap-accounts.js";
import type { SignInFlow } from "../iap/sign-in-flow.js";
import type { IapSigner } from "../tokens/iap-jwt.js";
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
  /** Writes pending request logs (and users IAP saw first) now (tests and shutdown). */
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
    iap: { signer: IapSigner; signIn: SignInFlow };
  },
): Promise<DataPlane> {
  const directory = await createServiceDirectory(platform.store);
  const iapAccounts = await openIapAccounts(platform.store);
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
    iap: createIapCheck({
      clock: platform.clock,
      engine: platform.engine,
      tokens: platform.tokens,
      store: platform.store,
      accounts: iapAccounts,
      ...options.iap,
    }),
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
  const servicePorts = await startServicePorts({ store: platform.store, directory, frontEnd, host: options.host });
  const close = async () => {
    for (const listener of [server, lb, lbHttps]) await closeServer(listener);
    await servicePorts.close();
    await requestLog.close();
    await iapAccounts.close();
    await forwarder.close();
    directory.close();
  };
  try {
    return await bind();
  } catch (error) {
    // Whatever was already bound is released, so a failed start leaves nothing listening.
    await close();
    throw error;
  }

  async function bind(): Promise<DataPlane> {
    const port = await listenAs(server, options.port, options.host, LISTENERS.frontEnd);
    const lbPort = await listenAs(lb, options.lbPort, options.host, LISTENERS.loadBalancer);
    const lbHttpsPort = await listenAs(lbHttps, options.lbHttpsPort, options.host, LISTENERS.loadBalancerHttps);
    return {
      frontEndUrl: `http://${options.host}:${port}`,
      loadBalancerUrl: `http://${options.host}:${lbPort}`,
      loadBalancerHttpsUrl: `https://${options.host}:${lbHttpsPort}`,
      frontEnd,
      servicePorts,
      directory,
      flushLogs: async () => {
        await requestLog.flush();
        await iapAccounts.flush();
      },
      close,
    };
  }
}

export type { Server };
