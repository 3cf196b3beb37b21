// Autoscaling for one revision, as Cloud Run does it: instances start on demand (the request waits for the
// cold start), each takes up to `concurrency` requests, at most `maxInstances` run, `minInstances` stay warm,
// idle instances are stopped, crashed ones replaced. After a failed start, requests fail fast for a second so
// that a flood of requests does not fork-bomb a broken revision.
import { systemClock, type Clock } from "../core/clock.js";
import { CapacityTimeoutError } from "./instance-errors.js";
import type { InstanceLease } from "./instance-lease.js";
import type { RunningInstance } from "./process-instance.js";

export interface Lease extends InstanceLease {
  instanceId: string;
}

export interface InstancePoolOptions {
  revision: string;
  concurrency: number;
  minInstances: number;
  maxInstances: number;
  idleTimeoutMs: number;
  requestTimeoutMs?: number;
  startInstance: (instanceId: string) => Promise<RunningInstance>;
  clock?: Clock;
}

export interface InstancePool {
  acquire(): Promise<Lease>;
  stats(): { ready: number; starting: number; inFlight: number; waiting: number };
  close(): Promise<void>;
}

interface Slot {
  instance: RunningInstance;
  inFlight: number;
  lastUsedMs: number;
  gone: boolean;
}

interface Waiter {
  resolve(lease: Lease): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const FAIL_FAST_MS = 1000;

export function createInstancePool(options: InstancePoolOptions): InstancePool {
  const clock = options.clock ?? systemClock;
  const slots = new Map<string, Slot>();
  const waiters: Waiter[] = [];
  let starting = 0;
  let counter = 0;
  let closed = false;
  let lastFailure: { error: Error; atMs: number } | undefined;

  const leaseOf = (id: string, slot: Slot): Lease => {
    slot.inFlight++;
    let done = false;
    return {
      host: slot.instance.host,
      port: slot.instance.port,
      ...(slot.instance.socketPath ? { socketPath: slot.instance.socketPath } : {}),
      ...(slot.instance.connect ? { connect: slot.instance.connect } : {}),
      instanceId: id,
      release() {
        if (done) return;
        done = true;
        slot.inFlight--;
        slot.lastUsedMs = clock.now();
        dispatch();
      },
      markBroken() {
        remove(id, slot);
      },
    };
  };

  const freeSlot = (): [string, Slot] | undefined => {
    let best: [string, Slot] | undefined;
    for (const entry of slots) {
      const slot = entry[1];
      if (slot.gone || slot.inFlight >= options.concurrency) continue;
      if (!best || slot.inFlight < best[1].inFlight) best = entry;
    }
    return best;
  };

  const dispatch = () => {
    while (waiters.length > 0) {
      const free = freeSlot();
      if (!free) break;
      const waiter = waiters.shift() as Waiter;
      clearTimeout(waiter.timer);
      waiter.resolve(leaseOf(free[0], free[1]));
    }
    scale();
  };

  const liveCount = () => {
    let live = 0;
    for (const slot of slots.values()) if (!slot.gone) live++;
    return live;
  };

  const scale = () => {
    if (closed) return;
    // Runs after every released lease: counts without allocating.
    const live = liveCount();
    const capacityComing = starting * options.concurrency;
    const wantMore = waiters.length > capacityComing || live + starting < options.minInstances;
    if (wantMore && live + starting < options.maxInstances) start();
  };

  const start = () => {
    starting++;
    const id = `${options.revision}-${(++counter).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    options.startInstance(id).then(
      (instance) => {
        starting--;
        if (closed) return void instance.stop(0);
        const slot: Slot = { instance, inFlight: 0, lastUsedMs: clock.now(), gone: false };
        slots.set(id, slot);
        void instance.exited.then(() => remove(id, slot));
        dispatch();
      },
      (error: Error) => {
        starting--;
        lastFailure = { error, atMs: clock.now() };
        const capacity = [...slots.values()].filter((s) => !s.gone).length;
        if (capacity === 0) for (const waiter of waiters.splice(0)) fail(waiter, error);
        scale();
      },
    );
  };

  const fail = (waiter: Waiter, error: Error) => {
    clearTimeout(waiter.timer);
    waiter.reject(error);
  };

  const remove = (id: string, slot: Slot) => {
    if (slot.gone) return;
    slot.gone = true;
    slots.delete(id);
    void slot.instance.stop(0);
    if (!closed) scale();
  };

  const sweep = setInterval(
    () => {
      const now = clock.now();
      let live = [...slots.values()].filter((s) => !s.gone).length;
      for (const [id, slot] of slots) {
        if (live <= options.minInstances) break;
        if (slot.inFlight === 0 && now - slot.lastUsedMs >= options.idleTimeoutMs) {
          remove(id, slot);
          live--;
        }
      }
    },
    Math.max(50, Math.min(1000, options.idleTimeoutMs / 4)),
  );
  sweep.unref();
  scale();

  return {
    acquire() {
      if (closed) return Promise.reject(new CapacityTimeoutError());
      const free = freeSlot();
      if (free) return Promise.resolve(leaseOf(free[0], free[1]));
      if (lastFailure && clock.now() - lastFailure.atMs < FAIL_FAST_MS && slots.size === 0) {
        return Promise.reject(lastFailure.error);
      }
      return new Promise<Lease>((resolve, reject) => {
        const timer = setTimeout(() => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          reject(new CapacityTimeoutError());
        }, options.requestTimeoutMs ?? 120_000);
        const waiter: Waiter = { resolve, reject, timer };
        waiters.push(waiter);
        scale();
      });
    },
    stats() {
      const live = [...slots.values()].filter((s) => !s.gone);
      return {
        ready: live.length,
        starting,
        inFlight: live.reduce((n, s) => n + s.inFlight, 0),
        waiting: waiters.length,
      };
    },
    async close() {
      closed = true;
      clearInterval(sweep);
      for (const waiter of waiters.splice(0)) fail(waiter, new CapacityTimeoutError());
      const all = [...slots.entries()];
      slots.clear();
      await Promise.all(all.map(([, slot]) => ((slot.gone = true), slot.instance.stop(2000))));
    },
  };
}
