// What the front end gets from the runtime: a lease on a ready instance of a revision, for one request.
import type { Socket } from "node:net";

export interface InstanceLease {
  host: string;
  port: number;
  /** Instances in their own network namespace are reached through a unix socket. */
  socketPath?: string;
  /** Or through sockets their launcher connects inside the namespace and hands over (no relay hop). */
  connect?: () => Promise<Socket>;
  release(): void;
  markBroken(): void;
}

export interface InstanceProvider {
  /** Rejects with a CapacityTimeoutError (→ 429), or an InstanceStartError or another error (→ 500). */
  acquire(revision: string, service: string): Promise<InstanceLease>;
}
