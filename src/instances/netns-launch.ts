// How an instance is started in its own network namespace: `unshare` runs runguard's launcher, which sets up
// loopback, the relays and the app (runtime/netns-launcher.ts).
import { readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { StoredRevision } from "../run/types.js";
import { unshareArgs } from "../runtime/isolation.js";

const launcher = fileURLToPath(new URL("../runtime/netns-launcher.js", import.meta.url));

export function containerPortOf(revision: StoredRevision): number {
  return revision.template.spec.containers[0]?.ports?.[0]?.containerPort ?? 8080;
}

export function netnsLaunch(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
  appPort: number,
  sockets: { inbound: string; outbound: Array<{ port: number; socket: string }> },
  mounts: Array<{ source: string; target: string }>,
): { command: string[]; env: Record<string, string>; port: number; socketPath: string; launcherIpc: true } {
  return {
    command: ["unshare", ...unshareArgs(), process.execPath, launcher],
    env: {
      PATH: `/usr/sbin:/sbin:${env["PATH"] ?? "/usr/bin:/bin"}`,
      RUNGUARD_LAUNCHER_CONFIG: JSON.stringify({
        command: argv,
        cwd,
        env,
        appPort,
        inboundSocket: sockets.inbound,
        outbound: sockets.outbound,
        mounts,
        hostMountNamespace: readlinkSync("/proc/self/ns/mnt"),
      }),
    },
    port: appPort,
    socketPath: sockets.inbound,
    launcherIpc: true,
  };
}
