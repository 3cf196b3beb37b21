// How an instance is started: `unshare` runs runguard's launcher (or has run it already, a spare waiting for its
// configuration: runtime/warm-launcher.ts) as the init of the instance's own PID (and mount) namespace, in netns isolation also in its own network namespace, where it sets up loopback and the
// relays; the launcher starts the app through `setpriv`, as the instance's own uid with no capabilities
// (runtime/netns-launcher.ts, runtime/confinement.ts). Where the machine has no PID namespaces, process
// isolation starts the app through `setpriv` directly.
import { readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { StoredRevision } from "../run/types.js";
import { unshareArgs } from "./isolation.js";
import type { ContainerLaunch, LauncherConfig } from "./netns-launcher.js";
import { METADATA_ADDRESS, type NamespaceNetwork, type SpareNetwork } from "./namespace-network.js";
import { GOOGLE_API_VIP } from "../egress/google-vip.js";

const launcher = fileURLToPath(new URL("./netns-launcher.js", import.meta.url));

export function containerPortOf(revision: StoredRevision): number {
  return revision.template.spec.containers[0]?.ports?.[0]?.containerPort ?? 8080;
}

export interface InstanceLaunch {
  command: string[];
  env: Record<string, string>;
  port: number;
  socketPath?: string;
  /** When `command` is runguard's launcher: its configuration (runtime/process-instance.ts sends it). */
  launcher?: { config: LauncherConfig; connects: boolean };
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
    env: {
      ...launcherEnv(env),
      // What a spare may prepare before it knows its instance (runtime/netns-launcher.ts): none of it secret.
      RUNGUARD_HOST_NETNS: readlinkSync("/proc/self/ns/net"),
      RUNGUARD_HOST_MNTNS: readlinkSync("/proc/self/ns/mnt"),
      RUNGUARD_SPARE_NETWORK: JSON.stringify(spareNetworkOf(sockets)),
      ...(container
        ? { RUNGUARD_CONTAINER_DIR: container.workDir, RUNGUARD_CONTAINER_TMPFS: String(container.defaultMemoryBytes) }
        : {}),
    },
    launcher: {
      connects: true,
      config: {
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
      },
    },
    port: appPort,
    socketPath: sockets.inbound,
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
    env: launcherEnv(env),
    launcher: {
      connects: false,
      config: {
        command: argv,
        cwd,
        env,
        appPort,
        network: false,
        mounts: [],
        hostMountNamespace: readlinkSync("/proc/self/ns/mnt"),
        dropPrivileges: confine.dropPrivileges,
      },
    },
    port: appPort,
  };
}

/** Google's addresses, the same in every instance: a spare launcher sets them up before it knows its instance. */
const WELL_KNOWN = new Set([METADATA_ADDRESS, GOOGLE_API_VIP]);

function spareNetworkOf(network: NamespaceNetwork): SpareNetwork {
  return {
    addresses: network.addresses.filter((address) => WELL_KNOWN.has(address)),
    redirects: network.outbound.filter((relay) => WELL_KNOWN.has(relay.host)).map(({ host, port }) => ({ host, port })),
  };
}

/**
 * The launcher's own environment: only PATH, so that a spare started ahead of need has what it will have when
 * claimed. The configuration, secrets included, travels over the IPC channel instead (never in a file).
 */
function launcherEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: `/usr/sbin:/sbin:${env["PATH"] ?? "/usr/bin:/bin"}` };
}
