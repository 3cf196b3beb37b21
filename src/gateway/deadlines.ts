// Whole-answer deadlines for proxied requests: a service's request timeout, as Cloud Run applies it.
// Requests that arrive in the same second with the same timeout share one deadline, so the front end runs one
// timer per second and timeout instead of undici's header and body timers per request. Those stay in undici's
// timer list for up to a second after the request ends, outlive several scavenges and are promoted to the old
// generation: at 2 connections the front end promoted 127 bytes per request with them and 26 without.
import { EventEmitter } from "node:events";

export class DeadlineExceededError extends Error {
  readonly code = "RUNGUARD_DEADLINE_EXCEEDED";
  constructor(timeoutMs: number) {
    super(`request timeout of ${timeoutMs} ms exceeded`);
    this.name = "DeadlineExceededError";
  }
}

/** An abort signal undici accepts (an EventEmitter with `aborted` and `reason`), shared by many requests. */
export class Deadline extends EventEmitter {
  aborted = false;
  reason: Error | undefined;

  constructor() {
    super();
    // Every request in flight in the same second listens; more than ten is normal, not a leak.
    this.setMaxListeners(0);
  }

  expire(reason: Error): void {
    this.aborted = true;
    this.reason = reason;
    this.emit("abort");
  }
}

export interface Deadlines {
  /** The deadline of a request arriving now: it expires between timeoutMs and timeoutMs + 1 s from now. */
  forRequest(timeoutMs: number): Deadline;
  /** Cancels every pending deadline (they no longer expire). */
  close(): void;
}

export function createDeadlines(now: () => number = Date.now): Deadlines {
  const current = new Map<number, { second: number; deadline: Deadline }>();
  const pending = new Set<NodeJS.Timeout>();
  return {
    forRequest(timeoutMs) {
      const at = now();
      const second = Math.floor(at / 1000);
      const shared = current.get(timeoutMs);
      if (shared?.second === second) return shared.deadline;
      const deadline = new Deadline();
      current.set(timeoutMs, { second, deadline });
      const timer = setTimeout(
        () => {
          pending.delete(timer);
          deadline.expire(new DeadlineExceededError(timeoutMs));
        },
        (second + 1) * 1000 + timeoutMs - at,
      );
      timer.unref();
      pending.add(timer);
      return deadline;
    },
    close() {
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
      current.clear();
    },
  };
}
