// What confines an instance's processes on this machine, decided once at start. An instance runs as a uid of
// its own (runtime/instance-uids.ts), with no supplementary groups, no capabilities (bounding set cleared,
// ambient and inheritable empty) and no_new_privs, through util-linux `setpriv`; and in its own PID and mount
// namespaces through `unshare`. Each mechanism that is missing is named, so `runguard up` can say what an
// instance could do here that it cannot do on Cloud Run.
import { spawnSync } from "node:child_process";

export interface Confinement {
  /** Each instance runs as an unprivileged uid and gid of its own (needs runguard to run as root). */
  uidPerInstance: boolean;
  /** Bounding set cleared, ambient and inheritable capabilities empty, no_new_privs (needs `setpriv`). */
  noCapabilities: boolean;
  /** Its own PID namespace: it sees and signals only its own processes (needs `unshare --pid`). */
  pidNamespace: boolean;
  /** Its own mount namespace (secret volumes at their container paths; a private /proc). */
  mountNamespace: boolean;
}

export interface ConfinementReport extends Confinement {
  /** One line per protection this machine lacks (empty when every one is in force). */
  missing: string[];
}

/** The uid and gid an instance's processes run as. */
export interface InstanceIdentity {
  uid: number;
  gid: number;
}

function works(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: "ignore", timeout: 5000 }).status === 0;
}

export function detectConfinement(): ConfinementReport {
  const root = process.getuid?.() === 0;
  const setpriv = works("setpriv", ["--no-new-privs", "true"]);
  const privileges = root ? [] : ["--map-root-user"];
  const pidNamespace = works("unshare", [...privileges, "--pid", "--fork", "--kill-child", "--mount-proc", "true"]);
  const confinement: Confinement = {
    uidPerInstance: root && setpriv,
    noCapabilities: setpriv,
    pidNamespace,
    mountNamespace: pidNamespace,
  };
  return { ...confinement, missing: missingProtections(confinement) };
}

export function missingProtections(confinement: Confinement): string[] {
  const missing: string[] = [];
  if (!confinement.uidPerInstance)
    missing.push(
      "instances run as runguard's own user (runguard is not root or setpriv is missing): they can read its data directory and each other's files",
    );
  if (!confinement.noCapabilities)
    missing.push("instances keep their capabilities and may gain privileges (util-linux setpriv is missing)");
  if (!confinement.pidNamespace)
    missing.push("instances share the host's PID namespace: they see every process (unshare --pid is unavailable)");
  if (!confinement.mountNamespace) missing.push("instances share runguard's mount namespace");
  return missing;
}

/**
 * The `setpriv` prefix that drops an instance's privileges before its command runs. Without a uid of its own
 * (runguard not root), only what an unprivileged process may still shed is dropped.
 */
export function dropPrivilegesArgs(confinement: Confinement, identity: InstanceIdentity | undefined): string[] {
  if (!confinement.noCapabilities) return [];
  if (!identity) return ["setpriv", "--no-new-privs", "--"];
  return [
    "setpriv",
    `--reuid=${identity.uid}`,
    `--regid=${identity.gid}`,
    "--clear-groups",
    "--inh-caps=-all",
    "--ambient-caps=-all",
    "--bounding-set=-all",
    "--no-new-privs",
    "--",
  ];
}
