// Starts runguard: the platform and its listeners. The only place that binds ports.
import { createServer } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { LISTENERS, closeServer, listenAs } from "./listen.js";
import { lockDataDir } from "./data-dir-lock.js";
import type { Config } from "../core/config.js";
import type { Clock } from "../core/clock.js";
import { answerMalformedApiRequests, createControlPlaneHandler, refuseConnect } from "../control-plane/server.js";
import { createLogger, type Logger } from "../core/logger.js";
import { openPlatform, type OpenedPlatform } from "./platform.js";
import { allRoutes } from "./routes.js";
import { startDataPlane, type DataPlane } from "./data-plane.js";
import { createInstanceManager, type InstanceManager } from "../instances/instance-manager.js";
import { openLocalCa } from "../network/local-ca.js";
import { detectIsolation, type IsolationMode } from "../runtime/isolation.js";
import { detectConfinement, type ConfinementReport } from "../runtime/confinement.js";
import { openInstanceDirs } from "../instances/instance-dirs.js";
import { createPrivateResourceIndex } from "../network/private-resources.js";
import { createVpcGateway } from "../network/vpc-gateway.js";
import { createNetworkAdminRoutes } from "../control-plane/apis/network-admin.js";
import { createIapRoutes } from "../control-plane/apis/iap-admin.js";
import { createIapSigner, type IapSigner } from "../tokens/iap-jwt.js";
import { createOauthRoutes } from "../control-plane/apis/oauth.js";
import { createSignInRoutes } from "../control-plane/apis/signin.js";
import { createAuthorizationCodes } from "../signin/authorization-codes.js";
import { createSignInThrottle } from "../signin/sign-in-throttle.js";
import { createClientDirectory } from "../signin/clients.js";
import { createIapSessions, openIapSessionKey } from "../iap/iap-session.js";
import { builtInIdentityProvider, oidcIdentityProvider } from "../iap/identity-provider.js";
import { createSignInFlow } from "../iap/sign-in-flow.js";
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
  /** What confines each instance here, and one line per protection this machine lacks. */
  confinement: ConfinementReport;
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
  const lock = lockDataDir(config.dataDir);
  // A start that fails part way (a port in use, a wrong KEK) undoes what it did, so nothing is left running.
  const undo: (() => Promise<void> | void)[] = [() => lock.release()];
  try {
    return await start(config, logger, options.clock, lock, undo);
  } catch (error) {
    for (const step of undo.reverse()) await step();
    throw error;
  }
}

async function start(
  config: Config,
  logger: Logger,
  clock: Clock | undefined,
  lock: { release(): void },
  undo: (() => Promise<void> | void)[],
): Promise<Runguard> {
  const platform = await openPlatform(config, clock);
  undo.push(() => platform.close());
  let apiUrl = "";
  const ca = await openLocalCa(join(config.dataDir, "ca"), platform.envelope);
  const signer = createIapSigner(platform.clock);
  const privateResources = await createPrivateResourceIndex(platform.store);
  undo.push(() => privateResources.close());
  let frontEnd: DataPlane["frontEnd"] | undefined;
  const serveRunApp = (req: IncomingMessage, res: ServerResponse, source: TrafficSource) =>
    frontEnd?.(req, res, { source });
  const serveGoogleApis = (req: IncomingMessage, res: ServerResponse) => apiHandler(req, res);
  const gateway = createVpcGateway({ ca, privateResources, serveRunApp, serveGoogleApis });
  const codes = createAuthorizationCodes(platform.clock);
  let directIapClients = async () => new Map<string, string[]>();
  const clients = createClientDirectory(platform.store, () => directIapClients());
  const signIn = createSignInFlow(
    createIapSessions(await openIapSessionKey(config.dataDir, platform.envelope), platform.clock, {
      maxCount: config.pendingSignInMaxCount,
      maxBytes: config.pendingSignInMaxBytes,
    }),
    config.oidc ? oidcIdentityProvider(config.oidc) : builtInIdentityProvider(() => apiUrl, codes),
  );
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
  answerMalformedApiRequests(api);
  undo.push(() => closeServer(api));
  const port = await listenAs(api, config.apiPort, config.host, LISTENERS.controlPlane);
  apiUrl = `http://${config.host}:${port}`;
  const isolation = detectIsolation(config.isolation);
  const confinement = detectConfinement();
  // Kills the instances a killed runguard left running on this data directory and removes their directories.
  const dirs = await openInstanceDirs(config.dataDir, ca);
  if (dirs.reaped > 0) logger.warn({ killed: dirs.reaped }, "stopped instances left running by a previous run");
  const instances = createInstanceManager({
    platform,
    isolation,
    ca,
    privateResources,
    serveRunApp,
    serveGoogleApis,
    apiEndpoint: () => apiUrl.replace(/^http:\/\//, ""),
    dirs,
    confinement,
    idleTimeoutMs: config.idleTimeoutMs,
  });
  undo.push(() => instances.close());
  const dataPlane = await startDataPlane(platform, instances, {
    host: config.host,
    port: config.frontEndPort,
    lbPort: config.lbPort,
    lbHttpsPort: config.lbHttpsPort,
    ca,
    iap: { signer, signIn },
  });
  frontEnd = dataPlane.frontEnd;
  directIapClients = async () => directIapClientHosts(dataPlane.directory);
  const project = await platform.store.get<{ projectNumber: string }>("project", `projects/${config.projectId}`);
  const endpoints: Endpoints = {
    api: apiUrl,
    isolation,
    confinement,
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
      dirs.close();
      privateResources.close();
      await platform.close();
      lock.release();
    },
  };
}
