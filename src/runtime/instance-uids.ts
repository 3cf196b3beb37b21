// The uids instances run as: INSTANCE_UIDS.first .. first+count-1, gid equal to uid, no entry in /etc/passwd.
// A uid is held through an abstract unix socket named after it: binding the name is exclusive on the machine
// (its network namespace) and the kernel releases it when the holder exits, even on SIGKILL, so two runguards
// never hand out the same uid at once and a crashed one leaves nothing to clean.
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import type { InstanceIdentity } from "./confinement.js";

export const INSTANCE_UIDS = { first: 910_000, count: 10_000 } as const;

export interface HeldUid extends InstanceIdentity {
  /** Kills whatever still runs as this uid, then lets the uid go. */
  release(): Promise<void>;
}

function lockName(uid: number): string {
  return `\0runguard-instance-uid-${uid}`;
}

function bind(uid: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    // A held name never keeps runguard running.
    server.listen(lockName(uid), () => resolve(server.unref()));
  });
}

/** The pids of every process whose real uid is `uid`. */
export function processesOf(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      if (Number(real) === uid) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function killAll(uid: number): void {
  for (const pid of processesOf(uid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

const held = new Set<number>();
let next = 0;

/** Takes the next free uid of the range, or throws when every one is in use. */
export async function acquireInstanceUid(): Promise<HeldUid> {
  for (let tried = 0; tried < INSTANCE_UIDS.count; tried++) {
    const uid = INSTANCE_UIDS.first + ((next + tried) % INSTANCE_UIDS.count);
    if (held.has(uid)) continue;
    const lock = await bind(uid);
    if (!lock) continue;
    next = (next + tried + 1) % INSTANCE_UIDS.count;
    held.add(uid);
    // Nothing of an earlier holder (a runguard killed with its instances' children) may survive into ours.
    killAll(uid);
    let released = false;
    return {
      uid,
      gid: uid,
      async release() {
        if (released) return;
        released = true;
        killAll(uid);
        await new Promise<void>((resolve) => lock.close(() => resolve()));
        held.delete(uid);
      },
    };
  }
  throw new Error(
    `every instance uid (${INSTANCE_UIDS.first}..${INSTANCE_UIDS.first + INSTANCE_UIDS.count - 1}) is in use`,
  );
}

/** Kills the processes of `uid` if no runguard holds it now (a previous run's instance). */
export async function killLeftoversOf(uid: number): Promise<void> {
  if (uid < INSTANCE_UIDS.first || uid >= INSTANCE_UIDS.first + INSTANCE_UIDS.count || held.has(uid)) return;
  const lock = await bind(uid);
  if (!lock) return;
  killAll(uid);
  await new Promise<void>((resolve) => lock.close(() => resolve()));
}
