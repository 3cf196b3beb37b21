// Where instances live on disk. The data directory stays runguard's alone (0700): an instance's HOME, its
// secret files and the sockets of its metadata server and egress proxy are under one root per data directory
// in the system temp directory (every ancestor of a data directory need not be traversable; /tmp is, and
// Cloud Run's writable filesystem is in memory too):
//   <tmp>/rg-<hash of the data dir>/      0711 root   traversable, not listable
//     h/<instance id>/                     0700 the instance's uid (HOME)
//     m/<instance id>/mounts/...           0750 root, the instance's group: its secret files (0600, its uid);
//                                                      it can read them but never swap a path runguard writes
//     s/<random>/                          0700 root   metadata, egress and inbound sockets (short paths:
//                                                      unix socket paths are limited to about 107 bytes)
//     ca/ca.pem, ca/ca-bundle.pem          0644        the CA's public certificate, never its key
// Which instances runguard started is recorded in <data dir>/instances/<id>.json (pid, its start time from
// /proc/<pid>/stat, its uid), so the next start on the same data directory kills what a killed runguard left
// running (after checking the pid still is that process) and removes every directory above.
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { hexId } from "../core/ids.js";
import type { InstanceIdentity } from "./confinement.js";
import { killLeftoversOf } from "./instance-uids.js";

export interface InstanceDirs {
  root: string;
  /** The CA as instances may read it: public certificate and bundle. */
  ca: { caCertPath: string; bundlePath: string };
  /** A new HOME owned by the instance's uid (0700). */
  createHome(instanceId: string, owner: InstanceIdentity | undefined): string;
  /** A new directory for an instance's secret files (root, the instance's group, 0750; mounts/ inside). */
  createSecretsDir(instanceId: string, owner: InstanceIdentity | undefined): string;
  /** A new directory for an instance's sockets, only runguard's (0700). */
  createSocketDir(): string;
  /** Records (or updates) what an instance runs as, for the next start to clean up after a crash. */
  record(instanceId: string, entry: InstanceRecord): void;
  /** The instance ended: its record and its directories go. */
  forget(instanceId: string, paths: string[]): void;
  /** Removes the whole root (runguard stops). */
  close(): void;
}

export interface InstanceRecord {
  uid?: number;
  pid?: number;
  /** Field 22 of /proc/<pid>/stat: tells the recorded process from a later one with the same pid. */
  startTime?: string;
}

export function runtimeRootOf(dataDir: string): string {
  const hash = createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 10);
  return join(tmpdir(), `rg-${hash}`);
}

/** The start time of `pid` (clock ticks after boot), or undefined when no such process runs (or a zombie). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] === "Z" ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

function kill(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // gone, or not a group
    }
  }
}

/** Kills what a previous run on this data directory left running; returns how many processes it killed. */
async function reapPreviousRun(recordsDir: string): Promise<number> {
  let killed = 0;
  for (const entry of readdirSync(recordsDir)) {
    const path = join(recordsDir, entry);
    if (entry.endsWith(".json")) {
      let record: InstanceRecord = {};
      try {
        record = JSON.parse(readFileSync(path, "utf8")) as InstanceRecord;
      } catch {
        // a torn record: nothing to verify, so nothing is killed
      }
      if (
        typeof record.pid === "number" &&
        record.pid > 1 &&
        record.startTime &&
        processStartTime(record.pid) === record.startTime
      ) {
        kill(record.pid);
        killed++;
      }
      if (typeof record.uid === "number") await killLeftoversOf(record.uid);
    }
    // Earlier versions kept HOME directories here: they go too.
    rmSync(path, { recursive: true, force: true });
  }
  return killed;
}

/** Creates `path` as a new directory (never reusing what someone else put there) with exactly `mode`. */
function freshDir(path: string, mode: number): void {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { mode });
  const made = lstatSync(path);
  if (!made.isDirectory() || made.uid !== process.getuid?.())
    throw new Error(`${path} could not be created for runguard alone`);
  chmodSync(path, mode);
}

export async function openInstanceDirs(
  dataDir: string,
  ca: { caCertPath: string; bundlePath: string },
): Promise<InstanceDirs & { reaped: number }> {
  // Nothing in the data directory is for instances.
  chmodSync(dataDir, 0o700);
  const recordsDir = join(dataDir, "instances");
  mkdirSync(recordsDir, { recursive: true, mode: 0o700 });
  chmodSync(recordsDir, 0o700);
  const reaped = await reapPreviousRun(recordsDir);
  const root = runtimeRootOf(dataDir);
  freshDir(root, 0o711);
  const homes = join(root, "h");
  const sockets = join(root, "s");
  const caDir = join(root, "ca");
  const secrets = join(root, "m");
  freshDir(homes, 0o711);
  freshDir(secrets, 0o711);
  freshDir(sockets, 0o700);
  freshDir(caDir, 0o755);
  const publicCa = { caCertPath: join(caDir, "ca.pem"), bundlePath: join(caDir, "ca-bundle.pem") };
  for (const [from, to] of [
    [ca.caCertPath, publicCa.caCertPath],
    [ca.bundlePath, publicCa.bundlePath],
  ] as const) {
    copyFileSync(from, to);
    chmodSync(to, 0o644);
  }
  const recordPath = (instanceId: string) => join(recordsDir, `${instanceId.replace(/[^\w.-]/g, "_")}.json`);
  return {
    root,
    reaped,
    ca: publicCa,
    createHome(instanceId, owner) {
      const home = join(homes, instanceId);
      freshDir(home, 0o700);
      if (owner) chownSync(home, owner.uid, owner.gid);
      return home;
    },
    createSecretsDir(instanceId, owner) {
      const dir = join(secrets, instanceId);
      for (const path of [dir, join(dir, "mounts")]) {
        freshDir(path, owner ? 0o750 : 0o700);
        if (owner) chownSync(path, 0, owner.gid);
      }
      return dir;
    },
    createSocketDir() {
      const dir = join(sockets, hexId(4));
      freshDir(dir, 0o700);
      return dir;
    },
    record(instanceId, entry) {
      writeFileSync(recordPath(instanceId), JSON.stringify(entry), { mode: 0o600 });
    },
    forget(instanceId, paths) {
      for (const path of paths) rmSync(path, { recursive: true, force: true });
      rmSync(recordPath(instanceId), { force: true });
    },
    close() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
