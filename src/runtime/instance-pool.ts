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

/** Everything one revision's pool knows; the functions below are its steps. */
interface PoolState {
  readonly options: InstancePoolOptions;
  readonly clock: Clock;
  readonly slots: Map<string, Slot>;
  readonly waiters: Waiter[];
  /** Instances being started, not yet ready. */
  starting: number;
  /** Numbers the instances this pool starts (part of their ids). */
  serial: number;
  closed: boolean;
  lastFailure?: { error: Error; atMs: number };
}

const FAIL_FAST_MS = 1000;

export function createInstancePool(options: InstancePoolOptions): InstancePool {
  const pool: PoolState = {
    options,
    clock: options.clock ?? systemClock,
    slots: new Map(),
    waiters: [],
    starting: 0,
    serial: 0,
    closed: false,
  };
  const sweep = setInterval(() => stopIdleInstances(pool), Math.max(50, Math.min(1000, options.idleTimeoutMs / 4)));
  sweep.unref();
  scale(pool);
  return {
    acquire: () => acquire(pool),
    stats: () => statsOf(pool),
    async close() {
      clearInterval(sweep);
      await closePool(pool);
    },
  };
}

/** A request's lease: an instance with room for it now, or one that becomes free or starts for it. */
function acquire(pool: PoolState): Promise<Lease> {
  if (pool.closed) return Promise.reject(new CapacityTimeoutError());
  const free = freeSlot(pool);
  if (free) return Promise.resolve(leaseOf(pool, free[0], free[1]));
  const failure = recentFailure(pool);
  if (failure) return Promise.reject(failure);
  return waitForInstance(pool);
}

/** Right after a failed start with no instance running, requests fail with its error instead of starting more. */
function recentFailure(pool: PoolState): Error | undefined {
  const { lastFailure } = pool;
  if (lastFailure && pool.clock.now() - lastFailure.atMs < FAIL_FAST_MS && pool.slots.size === 0)
    return lastFailure.error;
  return undefined;
}

/** Queues the request until an instance has room for it, or its wait runs out. */
function waitForInstance(pool: PoolState): Promise<Lease> {
  return new Promise<Lease>((resolve, reject) => {
    const timer = setTimeout(() => {
      const index = pool.waiters.indexOf(waiter);
      if (index >= 0) pool.waiters.splice(index, 1);
      reject(new CapacityTimeoutError());
    }, pool.options.requestTimeoutMs ?? 120_000);
    const waiter: Waiter = { resolve, reject, timer };
    pool.waiters.push(waiter);
    scale(pool);
  });
}

function leaseOf(pool: PoolState, id: string, slot: Slot): Lease {
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
      slot.lastUsedMs = pool.clock.now();
      dispatch(pool);
    },
    markBroken() {
      remove(pool, id, slot);
    },
  };
}

/** The least busy instance with room for one more request. */
function freeSlot(pool: PoolState): [string, Slot] | undefined {
  let best: [string, Slot] | undefined;
  for (const entry of pool.slots) {
    const slot = entry[1];
    if (slot.gone || slot.inFlight >= pool.options.concurrency) continue;
    if (!best || slot.inFlight < best[1].inFlight) best = entry;
  }
  return best;
}

/** Hands free room to waiting requests, oldest first, then scales for those still waiting. */
function dispatch(pool: PoolState): void {
  while (pool.waiters.length > 0) {
    const free = freeSlot(pool);
    if (!free) break;
    const waiter = pool.waiters.shift() as Waiter;
    clearTimeout(waiter.timer);
    waiter.resolve(leaseOf(pool, free[0], free[1]));
  }
  scale(pool);
}

function liveCount(pool: PoolState): number {
  let live = 0;
  for (const slot of pool.slots.values()) if (!slot.gone) live++;
  return live;
}

/** Starts an instance when the waiting requests exceed what is starting, or fewer than the minimum run. */
function scale(pool: PoolState): void {
  if (pool.closed) return;
  // Runs after every released lease: counts without allocating.
  const { options, starting } = pool;
  const live = liveCount(pool);
  const capacityComing = starting * options.concurrency;
  const wantMore = pool.waiters.length > capacityComing || live + starting < options.minInstances;
  if (wantMore && live + starting < options.maxInstances) startOne(pool);
}

function startOne(pool: PoolState): void {
  pool.starting++;
  const id = `${pool.options.revision}-${(++pool.serial).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  pool.options.startInstance(id).then(
    (instance) => addStarted(pool, id, instance),
    (error: Error) => recordFailedStart(pool, error),
  );
}

/** A started instance takes waiting requests; it leaves the pool when its process exits. */
function addStarted(pool: PoolState, id: string, instance: RunningInstance): void {
  pool.starting--;
  if (pool.closed) return void instance.stop(0);
  const slot: Slot = { instance, inFlight: 0, lastUsedMs: pool.clock.now(), gone: false };
  pool.slots.set(id, slot);
  void instance.exited.then(() => remove(pool, id, slot));
  dispatch(pool);
}

/** With no instance left to serve them, the waiting requests fail with the start's error. */
function recordFailedStart(pool: PoolState, error: Error): void {
  pool.starting--;
  pool.lastFailure = { error, atMs: pool.clock.now() };
  if (liveCount(pool) === 0) for (const waiter of pool.waiters.splice(0)) fail(waiter, error);
  scale(pool);
}

function fail(waiter: Waiter, error: Error): void {
  clearTimeout(waiter.timer);
  waiter.reject(error);
}

/** Takes an instance out of the pool (crashed, broken or idle) and stops it; another starts if needed. */
function remove(pool: PoolState, id: string, slot: Slot): void {
  if (slot.gone) return;
  slot.gone = true;
  pool.slots.delete(id);
  void slot.instance.stop(0);
  if (!pool.closed) scale(pool);
}

/** Stops instances idle for the idle timeout, keeping the minimum running. */
function stopIdleInstances(pool: PoolState): void {
  const now = pool.clock.now();
  let live = liveCount(pool);
  for (const [id, slot] of pool.slots) {
    if (live <= pool.options.minInstances) break;
    if (slot.inFlight === 0 && now - slot.lastUsedMs >= pool.options.idleTimeoutMs) {
      remove(pool, id, slot);
      live--;
    }
  }
}

function statsOf(pool: PoolState): ReturnType<InstancePool["stats"]> {
  let ready = 0;
  let inFlight = 0;
  for (const slot of pool.slots.values()) {
    if (slot.gone) continue;
    ready++;
    inFlight += slot.inFlight;
  }
  return { ready, starting: pool.starting, inFlight, waiting: pool.waiters.length };
}

/** Fails every waiting request and stops every instance, with a short grace period. */
async function closePool(pool: PoolState): Promise<void> {
  pool.closed = true;
  for (const waiter of pool.waiters.splice(0)) fail(waiter, new CapacityTimeoutError());
  const all = [...pool.slots.values()];
  pool.slots.clear();
  await Promise.all(all.map((slot) => ((slot.gone = true), slot.instance.stop(2000))));
}
