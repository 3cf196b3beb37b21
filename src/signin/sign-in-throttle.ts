// Limits failed sign-in attempts on runguard's sign-in page, per user and per client address, so passwords
// cannot be guessed at speed: after `maxPerUser` failures for one email (or `maxPerClient` from one address)
// within the window, further attempts are refused until the oldest of those failures leaves the window. The
// tables hold at most `maxTracked` keys each (least recently failed dropped first), so a flood of distinct
// emails or addresses costs bounded memory.
import type { Clock } from "../core/clock.js";

export interface SignInThrottleOptions {
  windowMs: number;
  maxPerUser: number;
  maxPerClient: number;
  maxTracked: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInThrottleOptions = {
  windowMs: 5 * 60_000,
  maxPerUser: 5,
  maxPerClient: 20,
  maxTracked: 10_000,
};

export interface SignInThrottle {
  /** Milliseconds until this user may try again from this address; 0 when an attempt is allowed now. */
  blockedForMs(email: string, clientAddress: string): number;
  recordFailure(email: string, clientAddress: string): void;
  /** A correct password clears the user's failures (not the address's: one address may try many users). */
  recordSuccess(email: string): void;
  /** Keys held, for tests of the memory bound. */
  size(): { users: number; clients: number };
}

/** Failure times per key, oldest key first (a Map keeps insertion order), each list capped at `limit`. */
function createFailureTable(limit: number, maxTracked: number) {
  const failures = new Map<string, number[]>();
  return {
    recent(key: string, since: number): number[] {
      return (failures.get(key) ?? []).filter((at) => at > since);
    },
    record(key: string, at: number, since: number): void {
      const times = this.recent(key, since);
      times.push(at);
      failures.delete(key);
      failures.set(key, times.slice(-limit));
      while (failures.size > maxTracked) failures.delete(failures.keys().next().value!);
    },
    clear(key: string): void {
      failures.delete(key);
    },
    get size() {
      return failures.size;
    },
  };
}

export function createSignInThrottle(
  clock: Clock,
  options: SignInThrottleOptions = DEFAULT_SIGN_IN_LIMITS,
): SignInThrottle {
  const users = createFailureTable(options.maxPerUser, options.maxTracked);
  const clients = createFailureTable(options.maxPerClient, options.maxTracked);
  const userKey = (email: string) => email.trim().toLowerCase();

  const waitFor = (times: number[], limit: number, now: number): number =>
    times.length >= limit ? times[times.length - limit]! + options.windowMs - now : 0;

  return {
    blockedForMs(email, clientAddress) {
      const now = clock.now();
      const since = now - options.windowMs;
      return Math.max(
        0,
        waitFor(users.recent(userKey(email), since), options.maxPerUser, now),
        waitFor(clients.recent(clientAddress, since), options.maxPerClient, now),
      );
    },
    recordFailure(email, clientAddress) {
      const now = clock.now();
      const since = now - options.windowMs;
      if (userKey(email)) users.record(userKey(email), now, since);
      clients.record(clientAddress, now, since);
    },
    recordSuccess(email) {
      users.clear(userKey(email));
    },
    size: () => ({ users: users.size, clients: clients.size }),
  };
}
