// How an instance is started: `unshare` runs runguard's launcher as the init of the instance's own PID (and
// mount) namespace, in netns isolation also in its own network namespace, where it sets up loopback and the
// relays; the launcher starts the app through `setpriv`, as the instance's own uid with no capabilities
// (runtime/netns-launcher.ts, runtime/confinement.ts). Where the machine has no PID namespaces, process
// isolation starts the app through `setpriv` directly.
import { readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { StoredRevision } from "../run/types.js";
import { unshareArgs } from "./isolation.js";
import type { ContainerLaunch } from "./netns-launcher.js";
import type { NamespaceNetwork } from "./namespace-network.js";

const launcher = fileURLToPath(new URL("./netns-launcher.js", import.meta.url));

export function containerPortOf(revision: StoredRevision): number {
  return revision.template.spec.containers[0]?.ports?.[0]?.containerPort ?? 8080;
}

export interface InstanceLaunch {
  command: string[];
  env: Record<string, string>;
  port: number;
  socketPath?: string;
  launcherIpc?: true;
}

export function netnsLaunch(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
  appPort: number,
  /** The inbound socket, and the namespace's addresses, relays and DNS (runtime/sidecars.ts). */
  sockets: NamespaceNetwork & { inbound: string },
  mounts: Array<{ source: string; target: string }>,
  /** Files bound over /etc/resolv.conf, /etc/hosts and the system CA bundle (runtime/guest-files.ts). */
  guestFiles: Array<{ source: string; target: string }>,
  confine: { dropPrivileges: string[]; pidNamespace: boolean },
  container?: ContainerLaunch,
): InstanceLaunch {
  return {
    command: ["unshare", ...unshareArgs(confine.pidNamespace), process.execPath, launcher],
    env: launcherEnv(env, {
      command: argv,
      cwd,
      env,
      appPort,
      inboundSocket: sockets.inbound,
      outbound: sockets.outbound,
      addresses: sockets.addresses,
      dns: sockets.dns,
      mounts,
      guestFiles,
      hostMountNamespace: readlinkSync("/proc/self/ns/mnt"),
      dropPrivileges: confine.dropPrivileges,
      ...(container ? { container } : {}),
    }),
    port: appPort,
    socketPath: sockets.inbound,
    launcherIpc: true,
  };
}

/** Process isolation: the host's network, and where possible a PID and mount namespace of its own. */
export function processLaunch(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
  appPort: number,
  confine: { dropPrivileges: string[]; pidNamespace: boolean },
): InstanceLaunch {
  if (!confine.pidNamespace) return { command: [...confine.dropPrivileges, ...argv], env, port: appPort };
  const privileges = process.getuid?.() === 0 ? [] : ["--map-root-user"];
  return {
    command: ["unshare", ...privileges, "--pid", "--mount-proc", "--fork", "--kill-child", process.execPath, launcher],
    env: launcherEnv(env, {
      command: argv,
      cwd,
      env,
      appPort,
      network: false,
      mounts: [],
      hostMountNamespace: readlinkSync("/proc/self/ns/mnt"),
      dropPrivileges: confine.dropPrivileges,
    }),
    port: appPort,
  };
}

function launcherEnv(env: Record<string, string>, config: Record<string, unknown>): Record<string, string> {
  // The configuration travels in the environment (never in a file: it holds the app's secret env vars).
  return {
    PATH: `/usr/sbin:/sbin:${env["PATH"] ?? "/usr/bin:/bin"}`,
    RUNGUARD_LAUNCHER_CONFIG: JSON.stringify(config),
  };
}
