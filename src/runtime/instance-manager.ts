// Runs revisions: one autoscaling pool of process instances per serving revision, each instance with its own
// metadata server (its service account's identity) and the container contract's environment.
import type { Platform } from "../core/platform.js";
import type { StoredRevision, StoredService } from "../run/types.js";
import { findImage } from "../run/images.js";
import { revisionResource } from "../run/services.js";
import { servingRevisions } from "../run/traffic.js";
import { findServiceAccount } from "../accounts/service-accounts.js";
import { requireProject } from "../accounts/projects.js";
import { createMetadataServer } from "../metadata/metadata-server.js";
import { createInstancePool, type InstancePool } from "./instance-pool.js";
import { findFreePort, startProcessInstance, type RunningInstance } from "./process-instance.js";
import type { InstanceLease, InstanceProvider } from "../gateway/forward.js";
import { buildArgv, buildContainerEnv } from "./container-env.js";
import { createInstanceLogWriter } from "./instance-logs.js";
import { startSidecars } from "./sidecars.js";
import { containerPortOf, netnsLaunch, processLaunch } from "./netns-launch.js";
import type { InstanceDirs } from "./instance-dirs.js";
import { dropPrivilegesArgs, type Confinement } from "./confinement.js";
import { acquireInstanceUid, type HeldUid } from "./instance-uids.js";
import { processStartTime } from "./instance-dirs.js";
import type { IsolationMode } from "./isolation.js";
import { prepareInstanceSecrets, type InstanceSecrets } from "./secret-mounts.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LocalCa } from "../network/local-ca.js";
import { createEgressProxy } from "../network/egress-proxy.js";
import { decideEgress, type EgressContext } from "../network/egress-policy.js";
import { resolveVpcAccess } from "../network/vpc-access.js";
import type { PrivateResourceIndex } from "../network/private-resources.js";
import type { TrafficSource } from "../gateway/ingress.js";

export interface InstanceManagerOptions {
  platform: Platform;
  ca: LocalCa;
  /** Answers a request an instance makes to a *.run.app URL (the front end, in-process). */
  serveRunApp: (req: IncomingMessage, res: ServerResponse, source: TrafficSource) => void;
  /** Answers a request an instance makes to a Google API (*.googleapis.com): runguard's control plane. */
  serveGoogleApis: (req: IncomingMessage, res: ServerResponse) => void;
  privateResources: PrivateResourceIndex;
  /** Own network namespace per instance, or the host's network (see runtime/isolation.ts). */
  isolation: IsolationMode;
  /** host:port of the control plane, for client libraries that need an endpoint override. */
  apiEndpoint?: () => string;
  /** Where instances get a private HOME, secret files and sockets (removed when the instance ends). */
  dirs: InstanceDirs;
  /** What confines instances on this machine (runtime/confinement.ts). */
  confinement: Confinement;
  idleTimeoutMs?: number;
  startupTimeoutMs?: number;
}

export interface InstanceManager extends InstanceProvider {
  /** Instance counts of a revision's pool, if it has one. */
  stats(revision: string): Promise<ReturnType<InstancePool["stats"]> | undefined>;
  close(): Promise<void>;
}

function scaleOf(revision: StoredRevision) {
  const annotations = revision.template.metadata?.annotations ?? {};
  return {
    minInstances: Number(annotations["autoscaling.knative.dev/minScale"] ?? 0),
    maxInstances: Number(annotations["autoscaling.knative.dev/maxScale"] ?? 100),
    concurrency: revision.template.spec.containerConcurrency ?? 80,
  };
}

export function createInstanceManager(options: InstanceManagerOptions): InstanceManager {
  const { platform } = options;
  const pools = new Map<string, { serviceResource: string; pool: Promise<InstancePool>; ready?: InstancePool }>();
  /** Secrets of running instances, so that `latest` file mounts follow new versions. */
  const running = new Map<string, InstanceSecrets>();
  const logs = createInstanceLogWriter(platform.store);

  async function startInstance(revision: StoredRevision, instanceId: string): Promise<RunningInstance> {
    const container = revision.template.spec.containers[0];
    const image = await findImage(platform.store, container?.image ?? "");
    if (!image)
      throw Object.assign(new Error(`Image '${container?.image}' not found.`), { name: "InstanceStartError" });
    const project = await requireProject(platform, revision.projectId);
    const account = await findServiceAccount(platform, "-", revision.serviceAccountEmail);
    const metadata = createMetadataServer({
      identity: {
        serviceAccountEmail: revision.serviceAccountEmail,
        serviceAccountUniqueId: account?.uniqueId ?? "0",
        projectId: project.projectId,
        projectNumber: project.projectNumber,
        region: revision.region,
        instanceId,
      },
      tokens: platform.tokens,
      clock: platform.clock,
    });
    const vpc = await resolveVpcAccess(platform.store, revision.template, revision.projectId, revision.region).catch(
      () => undefined,
    );
    const context: EgressContext = {
      projectId: revision.projectId,
      ...(vpc ? { vpc } : {}),
      privateResources: options.privateResources.list,
      serveRunApp: options.serveRunApp,
      serveGoogleApis: options.serveGoogleApis,
    };
    const egress = createEgressProxy({ ca: options.ca, decide: (target) => decideEgress(context, target) });
    const { dirs, confinement } = options;
    const held: HeldUid | undefined = confinement.uidPerInstance ? await acquireInstanceUid() : undefined;
    const owner = held ? { uid: held.uid, gid: held.gid } : undefined;
    const made: string[] = [];
    // Everything of the instance on disk goes when it ends, and its uid is freed (nothing left running as it).
    const removeDirs = async () => {
      dirs.forget(instanceId, made);
      await held?.release();
    };
    let socketDir: string, home: string, secretsDir: string;
    let sidecars: Awaited<ReturnType<typeof startSidecars>>;
    let secrets: InstanceSecrets;
    try {
      if (owner) dirs.record(instanceId, { uid: owner.uid });
      made.push((socketDir = dirs.createSocketDir()));
      made.push((home = dirs.createHome(instanceId, owner)));
      made.push((secretsDir = dirs.createSecretsDir(instanceId, owner)));
      sidecars = await startSidecars(options.isolation, metadata, egress, dirs.ca, options.apiEndpoint?.(), {
        socketDir,
        ...(owner ? { instanceUid: owner.uid } : {}),
      });
    } catch (error) {
      await removeDirs();
      throw error;
    }
    const stopSidecars = () => sidecars.stop();
    try {
      secrets = await prepareInstanceSecrets(platform, revision, secretsDir);
    } catch (error) {
      await stopSidecars();
      await removeDirs();
      throw error;
    }
    running.set(instanceId, secrets);
    let cleaned: Promise<void> | undefined;
    const cleanUp = () =>
      (cleaned ??= (async () => {
        running.delete(instanceId);
        secrets.remove();
        await stopSidecars();
        await removeDirs();
      })());
    const port = sidecars.sockets
      ? (image.fixedPort ?? containerPortOf(revision))
      : (image.fixedPort ?? (await findFreePort()));
    const env = buildContainerEnv(revision, port, sidecars.network, secrets.env, home);
    // In a mount namespace secret files are at their container paths; otherwise under RUNGUARD_MOUNT_ROOT.
    env["RUNGUARD_MOUNT_ROOT"] = sidecars.sockets ? "" : secrets.mountRoot;
    if (sidecars.apiEndpoint) env["RUNGUARD_API_ENDPOINT"] = sidecars.apiEndpoint;
    const argv = buildArgv(image.command, container?.command, container?.args);
    const confine = { dropPrivileges: dropPrivilegesArgs(confinement, owner), pidNamespace: confinement.pidNamespace };
    const launch = sidecars.sockets
      ? netnsLaunch(argv, image.dir, env, port, sidecars.sockets, secrets.mounts, confine)
      : processLaunch(argv, image.dir, env, port, confine);
    try {
      const instance = await startProcessInstance(
        {
          id: instanceId,
          ...launch,
          cwd: image.dir,
          startupTimeoutMs: options.startupTimeoutMs ?? 30_000,
        },
        {
          onLog: (stream, line) => logs.write(revision, instanceId, stream, line),
          onExit: () => void cleanUp(),
        },
      );
      const startTime = processStartTime(instance.pid);
      if (startTime && !cleaned)
        dirs.record(instanceId, { ...(owner ? { uid: owner.uid } : {}), pid: instance.pid, startTime });
      return instance;
    } catch (error) {
      await cleanUp();
      throw error;
    }
  }

  async function poolFor(revision: StoredRevision): Promise<InstancePool> {
    return createInstancePool({
      revision: revision.name,
      ...scaleOf(revision),
      idleTimeoutMs: options.idleTimeoutMs ?? 15 * 60_000,
      startInstance: (instanceId) => startInstance(revision, instanceId),
      clock: platform.clock,
    });
  }

  function ensurePool(revisionResource: string, serviceResource: string): Promise<InstancePool> {
    const existing = pools.get(revisionResource);
    if (existing) return existing.pool;
    const pool = platform.store.get<StoredRevision>("revision", revisionResource).then((revision) => {
      if (!revision) throw Object.assign(new Error("revision not found"), { name: "InstanceStartError" });
      return poolFor(revision);
    });
    const entry: { serviceResource: string; pool: Promise<InstancePool>; ready?: InstancePool } = {
      serviceResource,
      pool,
    };
    pools.set(revisionResource, entry);
    pool.then(
      (ready) => (entry.ready = ready),
      () => pools.delete(revisionResource),
    );
    return pool;
  }

  /** Keeps min instances warm before the first request, as Cloud Run does. */
  function warm(service: StoredService): void {
    const latest = service.latestReadyRevision;
    const minScale = Number(service.template.metadata?.annotations?.["autoscaling.knative.dev/minScale"] ?? 0);
    if (latest && minScale > 0)
      void ensurePool(revisionResource(service, latest), service.resource).catch(() => undefined);
  }

  // A revision that no longer has a share of traffic or a tag is drained and stopped.
  const unsubscribe = platform.store.onChange((change) => {
    if (change.kind === "secretVersion") {
      const secretResource = change.name.replace(/\/versions\/[^/]+$/, "");
      for (const secrets of running.values()) void secrets.refresh(secretResource);
      return;
    }
    // Another process changed the store: any version may have changed state.
    if (change.kind === "*") for (const secrets of running.values()) void secrets.refresh();
    if (change.kind !== "service") return;
    const service = change.value as StoredService | undefined;
    const serving = new Set(service ? servingRevisions(service).map((name) => revisionResource(service, name)) : []);
    for (const [resource, entry] of pools) {
      if (entry.serviceResource === change.name && !serving.has(resource)) {
        pools.delete(resource);
        void entry.pool.then((p) => p.close()).catch(() => undefined);
      }
    }
    if (service) warm(service);
  });
  void platform.store.list<StoredService>("service").then((services) => services.forEach(warm));

  return {
    acquire(revisionResource: string, serviceResource: string): Promise<InstanceLease> {
      // Once a pool exists, every request takes this path: no wait on the pool's promise.
      const ready = pools.get(revisionResource)?.ready;
      if (ready) return ready.acquire();
      return ensurePool(revisionResource, serviceResource).then((pool) => pool.acquire());
    },
    async stats(revision) {
      const entry = pools.get(revision);
      return entry ? (await entry.pool).stats() : undefined;
    },
    async close() {
      unsubscribe();
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((entry) => entry.pool.then((pool) => pool.close()).catch(() => undefined)));
      await logs.close();
    },
  };
}
