// Whole-answer deadlines for proxied requests: a service's request timeout, as Cloud Run applies it.
// Requests that arrive in the same second with the same timeout share one deadline, so the front end runs one
// timer per second and timeout instead of undici's header and body timers per request. Those stay in undici's
// timer list for up to a second after the request ends, outlive several scavenges and are promoted to the old
// generation: at 2 connections the front end promoted 127 bytes per request with them and 22 without.
import { performance } from "node:perf_hooks";

export class DeadlineExceededError extends Error {
  readonly code = "RUNGUARD_DEADLINE_EXCEEDED";
  constructor(timeoutMs: number) {
    super(`request timeout of ${timeoutMs} ms exceeded`);
    this.name = "DeadlineExceededError";
  }
}

type Listener = () => void;

/**
 * An abort signal shared by many requests, in the EventEmitter shape undici accepts (it checks `on`, then
 * uses `once`, `removeListener`, `aborted` and `reason`). Its listeners are a Set: requests end in about the
 * order they came, and an emitter's array would be scanned from the wrong end on every removal.
 */
export class Deadline {
  aborted = false;
  reason: Error | undefined;
  private readonly listeners = new Set<Listener>();

  /** Only "abort" ever happens; listeners for anything else (e.g. events.once's "error") are not kept. */
  on(event: string, listener: Listener): this {
    if (event === "abort") this.listeners.add(listener);
    return this;
  }

  once(event: string, listener: Listener): this {
    return this.on(event, listener);
  }

  removeListener(_event: string, listener: Listener): this {
    this.listeners.delete(listener);
    return this;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  expire(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const listener of listeners) listener();
  }
}

export interface Deadlines {
  /** The deadline of a request arriving now: it expires between timeoutMs and timeoutMs + 1 s from now. */
  forRequest(timeoutMs: number): Deadline;
  /** Expires every pending deadline at once (shutdown): requests still in flight are cut, none waits forever. */
  close(): void;
}

/** `now` is a monotonic clock in ms, so that a wall-clock step can neither hurry nor postpone a deadline. */
export function createDeadlines(now: () => number = () => performance.now()): Deadlines {
  const current = new Map<number, { second: number; deadline: Deadline }>();
  const pending = new Map<Deadline, { timer: NodeJS.Timeout; timeoutMs: number }>();

  const arm = (deadline: Deadline, timeoutMs: number, expiresAt: number) => {
    const timer = setTimeout(
      () => {
        // Timers count from the event loop's cached time, which can be behind `now`: never expire early.
        if (now() < expiresAt) return arm(deadline, timeoutMs, expiresAt);
        pending.delete(deadline);
        deadline.expire(new DeadlineExceededError(timeoutMs));
      },
      Math.max(1, Math.ceil(expiresAt - now())),
    );
    timer.unref();
    pending.set(deadline, { timer, timeoutMs });
  };

  return {
    forRequest(timeoutMs) {
      const second = Math.floor(now() / 1000);
      const shared = current.get(timeoutMs);
      if (shared?.second === second && !shared.deadline.aborted) return shared.deadline;
      const deadline = new Deadline();
      current.set(timeoutMs, { second, deadline });
      arm(deadline, timeoutMs, (second + 1) * 1000 + timeoutMs);
      return deadline;
    },
    close() {
      for (const [deadline, { timer, timeoutMs }] of pending) {
        clearTimeout(timer);
        deadline.expire(new DeadlineExceededError(timeoutMs));
      }
      pending.clear();
      current.clear();
    },
  };
}
