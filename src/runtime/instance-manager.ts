// Runs revisions: one autoscaling pool of process instances per serving revision (start-instance.ts starts
// each one), pools drained when their revision stops serving, secret files kept in line with their versions.
import type { StoredRevision, StoredService } from "../run/types.js";
import { revisionResource } from "../run/services.js";
import { servingRevisions } from "../run/traffic.js";
import type { Change } from "../store/store.js";
import { createInstancePool, type InstancePool } from "./instance-pool.js";
import { InstanceStartError } from "./instance-errors.js";
import type { InstanceLease, InstanceProvider } from "./instance-lease.js";
import { createInstanceLogWriter, DEFAULT_INSTANCE_LOG_LIMITS, type InstanceLineWatcher } from "./instance-logs.js";
import type { InstanceSecrets } from "./secret-mounts.js";
import { startInstance, type InstanceStartContext, type InstanceStartOptions } from "./start-instance.js";
import { createWarmLauncher, type WarmLauncher } from "./warm-launcher.js";

/** What a live view (`runguard up`'s terminal) is told about instances. Each callback must only queue. */
export interface InstanceWatcher {
  /** Each line an instance writes, within the bounds instance-logs.ts applies. */
  line?: InstanceLineWatcher;
  /** An instance starts; the function returned is called once, when it is ready or with why it failed. */
  starting?: (revision: StoredRevision, instanceId: string) => (error?: unknown) => void;
}

export interface InstanceManagerOptions extends InstanceStartOptions {
  idleTimeoutMs?: number;
  watch?: InstanceWatcher;
}

export interface InstanceManager extends InstanceProvider {
  /** Instance counts of a revision's pool, if it has one. */
  stats(revision: string): Promise<ReturnType<InstancePool["stats"]> | undefined>;
  close(): Promise<void>;
}

interface PoolEntry {
  serviceResource: string;
  pool: Promise<InstancePool>;
  /** Set once the pool exists: requests then take it without waiting on the promise. */
  ready?: InstancePool;
}

/** The revision's autoscaling settings, with Cloud Run's defaults. */
function scaleOf(revision: StoredRevision) {
  const annotations = revision.template.metadata?.annotations ?? {};
  return {
    minInstances: Number(annotations["autoscaling.knative.dev/minScale"] ?? 0),
    maxInstances: Number(annotations["autoscaling.knative.dev/maxScale"] ?? 100),
    concurrency: revision.template.spec.containerConcurrency ?? 80,
  };
}

export function createInstanceManager(options: InstanceManagerOptions): InstanceManager {
  const { store } = options.platform;
  const pools = new Map<string, PoolEntry>();
  const context: InstanceStartContext & { launchers: WarmLauncher } = {
    logs: createInstanceLogWriter(store, DEFAULT_INSTANCE_LOG_LIMITS, Date.now, options.watch?.line),
    running: new Map<string, InstanceSecrets>(),
    launchers: createWarmLauncher(),
  };

  function createPool(revision: StoredRevision): InstancePool {
    return createInstancePool({
      revision: revision.name,
      ...scaleOf(revision),
      idleTimeoutMs: options.idleTimeoutMs ?? 15 * 60_000,
      startInstance: (instanceId) => {
        const started = startInstance(options, context, revision, instanceId);
        const done = options.watch?.starting?.(revision, instanceId);
        if (done) started.then(() => done(), done);
        return started;
      },
      clock: options.platform.clock,
    });
  }

  function ensurePool(revisionResource: string, serviceResource: string): Promise<InstancePool> {
    const existing = pools.get(revisionResource);
    if (existing) return existing.pool;
    const pool = store.get<StoredRevision>("revision", revisionResource).then((revision) => {
      if (!revision) throw new InstanceStartError("revision-not-found", "revision not found");
      return createPool(revision);
    });
    const entry: PoolEntry = { serviceResource, pool };
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

  /** A revision that no longer has a share of traffic or a tag is drained and stopped. */
  function drainUnservedRevisions(serviceResource: string, service: StoredService | undefined): void {
    const serving = new Set(service ? servingRevisions(service).map((name) => revisionResource(service, name)) : []);
    for (const [resource, entry] of pools) {
      if (entry.serviceResource === serviceResource && !serving.has(resource)) {
        pools.delete(resource);
        void entry.pool.then((p) => p.close()).catch(() => undefined);
      }
    }
  }

  function followChange(change: Change): void {
    if (change.kind === "secretVersion") {
      refreshSecretFiles(context.running, change.name.replace(/\/versions\/[^/]+$/, ""));
      return;
    }
    // Another process changed the store: any version may have changed state.
    if (change.kind === "*") refreshSecretFiles(context.running);
    if (change.kind !== "service") return;
    const service = change.value as StoredService | undefined;
    drainUnservedRevisions(change.name, service);
    if (service) warm(service);
  }

  const unsubscribe = store.onChange(followChange);
  void store.list<StoredService>("service").then((services) => services.forEach(warm));

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
      await context.launchers.close();
      await context.logs.close();
    },
  };
}

/** Brings running instances' secret files in line with the versions of `secretResource` (every secret when omitted). */
function refreshSecretFiles(running: Map<string, InstanceSecrets>, secretResource?: string): void {
  for (const secrets of running.values()) void secrets.refresh(secretResource);
}
