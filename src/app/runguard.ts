// Starts runguard: the platform and its listeners. The only place that binds ports.
import { createServer, type Server } from "node:http";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { Config } from "../core/config.js";
import type { Clock } from "../core/clock.js";
import { createControlPlaneHandler, refuseConnect } from "../control-plane/server.js";
import { createLogger, type Logger } from "../core/logger.js";
import { openPlatform, type OpenedPlatform } from "./platform.js";
import { allRoutes } from "./routes.js";
import { startDataPlane, type DataPlane } from "./data-plane.js";
import { createInstanceManager, type InstanceManager } from "../instances/instance-manager.js";
import { openLocalCa } from "../network/local-ca.js";
import { detectIsolation, type IsolationMode } from "../runtime/isolation.js";
import { createPrivateResourceIndex } from "../network/private-resources.js";
import { createVpcGateway } from "../network/vpc-gateway.js";
import { createNetworkAdminRoutes } from "../control-plane/apis/network-admin.js";
import { createIapRoutes } from "../control-plane/apis/iap-admin.js";
import { createIapSigner, type IapSigner } from "../iap/iap-jwt.js";
import { createOauthRoutes } from "../control-plane/apis/oauth.js";
import { createSignInRoutes } from "../control-plane/apis/signin.js";
import { createAuthorizationCodes } from "../signin/authorization-codes.js";
import { createSignInThrottle } from "../signin/sign-in-throttle.js";
import { createClientDirectory } from "../signin/clients.js";
import { createIapSessions } from "../iap/iap-session.js";
import { builtInIdentityProvider, oidcIdentityProvider } from "../iap/identity-provider.js";
import { createSignInFlow } from "../iap/sign-in-flow.js";
import { createIapCheck } from "../iap/iap-check.js";
import { directIapClientHosts } from "../iap/direct-iap.js";
import type { TrafficSource } from "../gateway/ingress.js";
import type { IncomingMessage, ServerResponse } from "node:http";

export interface Endpoints {
  api: string;
  loadBalancer: string;
  loadBalancerHttps: string;
  /** The file holding runguard's local CA (PEM), which signs the load balancer's certificates. */
  caCertificatePath: string;
  isolation: IsolationMode;
  frontEnd: string;
  projectId: string;
  projectNumber: string;
  region: string;
  ownerEmail: string;
}

export interface Runguard {
  platform: OpenedPlatform;
  dataPlane: DataPlane;
  instances: InstanceManager;
  endpoints: Endpoints;
  /** Signs IAP's assertions (tests replay one against the wrong resource). */
  iapSigner: IapSigner;
  close(): Promise<void>;
}

export function endpointsFile(dataDir: string): string {
  return join(dataDir, "endpoints.json");
}

export async function startRunguard(
  config: Config,
  options: { clock?: Clock; logger?: Logger } = {},
): Promise<Runguard> {
  const logger = options.logger ?? createLogger();
  const platform = await openPlatform(config, options.clock);
  let apiUrl = "";
  const ca = await openLocalCa(join(config.dataDir, "ca"));
  const signer = createIapSigner(platform.clock);
  const privateResources = await createPrivateResourceIndex(platform.store);
  let frontEnd: DataPlane["frontEnd"] | undefined;
  const serveRunApp = (req: IncomingMessage, res: ServerResponse, source: TrafficSource) =>
    frontEnd?.(req, res, { source });
  const serveGoogleApis = (req: IncomingMessage, res: ServerResponse) => apiHandler(req, res);
  const gateway = createVpcGateway({ ca, privateResources, serveRunApp, serveGoogleApis });
  const codes = createAuthorizationCodes(platform.clock);
  let directIapClients = async () => new Map<string, string[]>();
  const clients = createClientDirectory(platform.store, () => directIapClients());
  const signIn = createSignInFlow(
    createIapSessions(sessionKey(config.dataDir), platform.clock),
    config.oidc ? oidcIdentityProvider(config.oidc) : builtInIdentityProvider(() => apiUrl, codes),
  );
  const iap = createIapCheck({ platform, signer, signIn });
  const apiHandler = createControlPlaneHandler({
    platform,
    routes: [
      ...allRoutes,
      ...createOauthRoutes(codes),
      ...createSignInRoutes(codes, clients, createSignInThrottle(platform.clock)),
      ...createNetworkAdminRoutes(gateway, ca),
      ...createIapRoutes(signer),
    ],
    baseUrl: () => apiUrl,
    onUnexpectedError: (requestId, error) => logger.error({ requestId, err: error }, "unexpected control-plane error"),
  });
  const api = createServer({ keepAliveTimeout: 65_000 }, apiHandler);
  api.on("connect", refuseConnect);
  const port = await listen(api, config.apiPort, config.host);
  apiUrl = `http://${config.host}:${port}`;
  const isolation = detectIsolation(config.isolation);
  const instances = createInstanceManager({
    platform,
    isolation,
    ca,
    privateResources,
    serveRunApp,
    serveGoogleApis,
    apiEndpoint: () => apiUrl.replace(/^http:\/\//, ""),
    workDir: join(config.dataDir, "instances"),
    idleTimeoutMs: config.idleTimeoutMs,
  });
  const dataPlane = await startDataPlane(platform, instances, {
    host: config.host,
    port: config.frontEndPort,
    lbPort: config.lbPort,
    lbHttpsPort: config.lbHttpsPort,
    ca,
    iap,
  });
  frontEnd = dataPlane.frontEnd;
  directIapClients = async () => directIapClientHosts(dataPlane.directory);
  const project = await platform.store.get<{ projectNumber: string }>("project", `projects/${config.projectId}`);
  const endpoints: Endpoints = {
    api: apiUrl,
    isolation,
    frontEnd: dataPlane.frontEndUrl,
    loadBalancer: dataPlane.loadBalancerUrl,
    loadBalancerHttps: dataPlane.loadBalancerHttpsUrl,
    caCertificatePath: ca.caCertPath,
    projectId: config.projectId,
    projectNumber: project?.projectNumber ?? "",
    region: config.region,
    ownerEmail: config.ownerEmail,
  };
  writeFileSync(endpointsFile(config.dataDir), JSON.stringify(endpoints, null, 2), { mode: 0o600 });
  return {
    platform,
    dataPlane,
    instances,
    endpoints,
    iapSigner: signer,
    async close() {
      await closeServer(api);
      await dataPlane.close();
      await instances.close();
      privateResources.close();
      await platform.close();
    },
  };
}

/** The key of IAP session cookies, kept so that sessions survive a restart. */
function sessionKey(dataDir: string): Uint8Array {
  const file = join(dataDir, "iap-session.key");
  if (!existsSync(file)) writeFileSync(file, randomBytes(32), { mode: 0o600, flag: "wx" });
  return new Uint8Array(readFileSync(file));
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
