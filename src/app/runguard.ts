// Starts runguard: the platform and its listeners. The only place that binds ports.
import { createServer } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { LISTENERS, bindPort, type BoundPort, type ListenerRole } from "./listen.js";
import { lockDataDir } from "./data-dir-lock.js";
import type { Config } from "../core/config.js";
import type { Clock } from "../core/clock.js";
import {
  answerMalformedApiRequests,
  createApiAuthenticator,
  createApiDispatch,
  createControlPlaneHandler,
  type ControlPlaneOptions,
} from "../control-plane/server.js";
import { createGrpcGateway, type GrpcGateway, type GrpcLimits } from "../control-plane/grpc/gateway.js";
import { serveEveryProtocol } from "./api-listener.js";
import type { Logger } from "../core/logger.js";
import { createLogger } from "./logger.js";
import { cannotBuild, openPlatform, type OpenedPlatform } from "./platform.js";
import { controlPlaneRoutes } from "./routes.js";
import { createDataPlane, type DataPlane, type DataPlanePorts } from "./data-plane.js";
import { createInstanceManager, type InstanceManager, type InstanceWatcher } from "../runtime/instance-manager.js";
import { failureText, watchChanges, watchProgress, type LiveSink } from "./live-feed.js";
import { openLocalCa } from "../network/local-ca.js";
import { detectIsolation } from "../runtime/isolation.js";
import { detectContainerEngine, type ContainerEngine } from "../containers/engine.js";
import { buildImage } from "../containers/podman-build.js";
import type { ImageBuilder } from "../builds/types.js";
import { detectConfinement } from "../runtime/confinement.js";
import { openInstanceDirs } from "../runtime/instance-dirs.js";
import { createPrivateResourceIndex } from "../network/private-resources.js";
import { createVpcGateway } from "../egress/vpc-gateway.js";
import { createIapSigner, type IapSigner } from "../tokens/iap-jwt.js";
import { createAuthorizationCodes } from "../signin/authorization-codes.js";
import { createSignInThrottle } from "../signin/sign-in-throttle.js";
import { createClientDirectory } from "../signin/clients.js";
import { createIapSessions, openIapSessionKey } from "../iap/iap-session.js";
import { builtInIdentityProvider, oidcIdentityProvider } from "../iap/identity-provider.js";
import { createSignInFlow } from "../iap/sign-in-flow.js";
import { createIapCheck } from "../iap/iap-check.js";
import { openIapAccounts } from "../iap/iap-accounts.js";
import { directIapClientHosts } from "../iap/direct-iap.js";
import { createServiceDirectory } from "../gateway/directory.js";
import type { TrafficSource } from "../network/traffic-source.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { endpointsFile, type Endpoints } from "./endpoints.js";

export { endpointsFile, type Endpoints } from "./endpoints.js";

export interface Runguard {
  platform: OpenedPlatform;
  dataPlane: DataPlane;
  instances: InstanceManager;
  endpoints: Endpoints;
  /** Signs IAP's assertions (tests replay one against the wrong resource). */
  iapSigner: IapSigner;
  /** gRPC for the Google APIs runguard serves: the transport listener hands it HTTP/2 connections. */
  grpc: GrpcGateway;
  close(): Promise<void>;
}

/** Builds from source with podman, as `runguard build` does, where container instances can run the result. */
function imageBuilderOf(engine: ContainerEngine, live: LiveSink | undefined): ImageBuilder {
  const unavailable = engine.images.unavailable;
  if (unavailable) return cannotBuild(unavailable);
  let builds = 0;
  return {
    build: async ({ contextDir, tag, onProgress }) => {
      const built = buildImage({ contextDir, tag, ...(onProgress ? { onProgress } : {}), timeoutMs: BUILD_TIMEOUT_MS });
      return live ? watchProgress(live, Date.now, `build ${++builds}`, `building ${tag}`, built) : built;
    },
  };
}

/** Instances' lines and starts as live events. */
function watchInstances(live: LiveSink): InstanceWatcher {
  return {
    line: (revision, instanceId, stream, text) =>
      live({ kind: "line", atMs: Date.now(), service: revision.service, instanceId, stream, text }),
    starting: (revision, instanceId) => {
      live({
        kind: "progress",
        phase: "begin",
        atMs: Date.now(),
        key: instanceId,
        label: `starting ${revision.service}`,
      });
      return (error) =>
        live({
          kind: "progress",
          phase: "end",
          atMs: Date.now(),
          key: instanceId,
          ok: error === undefined,
          outcome: error === undefined ? "ready" : failureText(error),
        });
    },
  };
}

/** Cloud Build's default build timeout. */
const BUILD_TIMEOUT_MS = 10 * 60_000;

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  /** Told of requests, instance lines and starts, builds and access changes as they happen (live-feed.ts). */
  live?: LiveSink;
  /** Limits of the gRPC gateway (connections, idle time, buffered bytes); shorter ones for tests. */
  grpcLimits?: GrpcLimits;
}

export async function startRunguard(config: Config, options: StartOptions = {}): Promise<Runguard> {
  const logger = options.logger ?? createLogger();
  const lock = lockDataDir(config.dataDir);
  // A start that fails part way (a port in use, a wrong KEK) undoes what it did, so nothing is left running.
  const undo: (() => Promise<void> | void)[] = [() => lock.release()];
  try {
    return await start(config, logger, options, lock, undo);
  } catch (error) {
    for (const step of undo.reverse()) await step();
    throw error;
  }
}

async function start(
  config: Config,
  logger: Logger,
  { clock, live, grpcLimits }: StartOptions,
  lock: { release(): void },
  undo: (() => Promise<void> | void)[],
): Promise<Runguard> {
  const isolation = detectIsolation(config.isolation);
  const engine = detectContainerEngine(isolation === "netns");
  const platform = await openPlatform(config, engine.images, clock, imageBuilderOf(engine, live));
  undo.push(() => platform.close());
  const stopWatchingChanges = live ? platform.store.onChange(watchChanges(live, Date.now)) : () => undefined;
  undo.push(stopWatchingChanges);
  // Every port first: one that is taken stops the start before anything is built, and every URL is final
  // before the components that hand it out exist. Nothing answers on them until serve().
  const ports = await bindPorts(config, undo);
  const apiUrl = `http://${config.host}:${ports.controlPlane.port}`;
  const ca = await openLocalCa(join(config.dataDir, "ca"), platform.envelope);
  const signer = createIapSigner(platform.clock);
  const privateResources = await createPrivateResourceIndex(platform.store);
  undo.push(() => privateResources.close());
  const directory = await createServiceDirectory(platform.store);
  undo.push(() => directory.close());
  const codes = createAuthorizationCodes(platform.clock);
  const clients = createClientDirectory(platform.store, async () => directIapClientHosts(directory));
  const signIn = createSignInFlow(
    createIapSessions(await openIapSessionKey(config.dataDir, platform.envelope), platform.clock, {
      maxCount: config.pendingSignInMaxCount,
      maxBytes: config.pendingSignInMaxBytes,
    }),
    config.oidc ? oidcIdentityProvider(config.oidc) : builtInIdentityProvider(() => apiUrl, codes),
  );
  const iapAccounts = await openIapAccounts(platform.store);
  undo.push(() => iapAccounts.close());
  const iap = createIapCheck({
    clock: platform.clock,
    engine: platform.engine,
    tokens: platform.tokens,
    store: platform.store,
    accounts: iapAccounts,
    signer,
    signIn,
  });
  const confinement = detectConfinement();
  // Kills the instances a killed runguard left running on this data directory and removes their directories.
  const dirs = await openInstanceDirs(config.dataDir, ca);
  undo.push(() => dirs.close());
  if (dirs.reaped > 0) logger.warn({ killed: dirs.reaped }, "stopped instances left running by a previous run");
  // Three pairs call each other: the front end forwards to instances, whose calls to *.run.app come back to the
  // front end; the control plane opens egress proxies (the gateway), whose calls to Google APIs come back to
  // the control plane. The component built first reaches the other through a constant declared below; neither
  // can be called before both exist, since nothing is served and no instance runs until they do.
  const dataPlane = createDataPlane(platform, {
    host: config.host,
    ports,
    directory,
    instances: { acquire: (revision, service) => instances.acquire(revision, service) },
    ca,
    iap,
    iapAccounts,
    ...(live ? { watchRequests: (row, stored) => live({ kind: "request", row, stored }) } : {}),
  });
  undo.push(() => dataPlane.close());
  const serveRunApp = (req: IncomingMessage, res: ServerResponse, source: TrafficSource) =>
    dataPlane.frontEnd(req, res, { source });
  const serveGoogleApis = (req: IncomingMessage, res: ServerResponse) => controlPlane(req, res);
  const gateway = createVpcGateway({ ca, privateResources, serveRunApp, serveGoogleApis });
  const controlPlaneOptions: ControlPlaneOptions = {
    platform,
    routes: controlPlaneRoutes({
      codes,
      clients,
      signInThrottle: createSignInThrottle(platform.clock),
      gateway,
      ca,
      iapSigner: signer,
    }),
    baseUrl: apiUrl,
    onUnexpectedError: (requestId, error) => logger.error({ requestId, err: error }, "unexpected control-plane error"),
  };
  const controlPlane = createControlPlaneHandler(controlPlaneOptions);
  const grpc = createGrpcGateway({
    dispatch: createApiDispatch(controlPlaneOptions),
    authenticate: createApiAuthenticator(controlPlaneOptions),
    maxMessageBytes: config.maxBodyBytes,
    ...(grpcLimits ? { limits: grpcLimits } : {}),
    onUnexpectedError: (requestId, error) => logger.error({ requestId, err: error }, "unexpected gRPC error"),
  });
  undo.push(() => grpc.close());
  const api = createServer({ keepAliveTimeout: 65_000 }, (req, res) => serveApiPort(req, res));
  answerMalformedApiRequests(api);
  const apiListener = serveEveryProtocol(api, ca, grpc, (req, res) => serveRunApp(req, res, { kind: "external" }));
  const serveApiPort = apiListener.serve(controlPlane);
  // Min instances start warming here, with everything they can call in place.
  const instances = createInstanceManager({
    platform,
    isolation,
    ca,
    privateResources,
    serveRunApp,
    serveGoogleApis,
    serveGrpc: (connection) => grpc.injectConnection(connection),
    apiEndpoint: () => apiUrl.replace(/^http:\/\//, ""),
    dirs,
    confinement,
    containers: engine,
    idleTimeoutMs: config.idleTimeoutMs,
    ...(live ? { watch: watchInstances(live) } : {}),
  });
  undo.push(() => instances.close());
  await ports.controlPlane.serve(api);
  await dataPlane.serve();
  const project = await platform.store.get<{ projectNumber: string }>("project", `projects/${config.projectId}`);
  const endpoints: Endpoints = {
    api: apiUrl,
    isolation,
    confinement,
    containers: engine.images.unavailable ?? "available",
    frontEnd: dataPlane.frontEndUrl,
    loadBalancer: dataPlane.loadBalancerUrl,
    loadBalancerHttps: dataPlane.loadBalancerHttpsUrl,
    caCertificatePath: ca.caCertPath,
    caBundlePath: ca.bundlePath,
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
    grpc,
    async close() {
      stopWatchingChanges();
      // Connections handed to the gRPC gateway or waiting in the listener are the port's too: ended first, or
      // closing the port would wait for them forever.
      apiListener.close();
      await grpc.close();
      await ports.controlPlane.close();
      await dataPlane.close();
      directory.close();
      await iapAccounts.close();
      await instances.close();
      dirs.close();
      privateResources.close();
      await platform.close();
      lock.release();
    },
  };
}

/** Binds runguard's four ports, in the order their options are documented; each is released on a failed start. */
async function bindPorts(
  config: Config,
  undo: (() => Promise<void> | void)[],
): Promise<DataPlanePorts & { controlPlane: BoundPort }> {
  const bind = async (port: number, role: ListenerRole) => {
    const bound = await bindPort(port, config.host, role);
    undo.push(() => bound.close());
    return bound;
  };
  const controlPlane = await bind(config.apiPort, LISTENERS.controlPlane);
  const frontEnd = await bind(config.frontEndPort, LISTENERS.frontEnd);
  const loadBalancer = await bind(config.lbPort, LISTENERS.loadBalancer);
  const loadBalancerHttps = await bind(config.lbHttpsPort, LISTENERS.loadBalancerHttps);
  return { controlPlane, frontEnd, loadBalancer, loadBalancerHttps };
}
