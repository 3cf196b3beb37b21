// Runs as the init of an instance's own PID namespace (started through `unshare --pid --fork`), so that the app
// gets signals forwarded and everything it starts dies with it. In netns isolation it also runs inside a fresh
// network namespace (`unshare --net`), where only a down loopback interface exists. Before the app starts it
// binds the instance's files (secret volumes; resolv.conf, hosts and the CA bundle) in its private mount
// namespace, and sets up the network (runtime/namespace-network.ts): loopback up, the metadata, Google API and
// private addresses on it, relays from them to unix sockets runguard serves from outside, a DNS server. Only
// once the app accepts connections does it open the inbound unix socket runguard's front end uses. The app can
// reach nothing else.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readlinkSync, writeFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import type { LauncherConfigure, LauncherReady, LauncherReply, LauncherRequest } from "./process-instance.js";
import {
  pipeBoth,
  prepareNetwork,
  runWithInput,
  setUpNamespaceNetwork,
  type NamespaceNetwork,
  type PreparedNetwork,
  type SpareNetwork,
} from "./namespace-network.js";

export interface LauncherConfig extends Partial<NamespaceNetwork> {
  command: string[];
  cwd: string;
  env: Record<string, string>;
  appPort: number;
  /** Where runguard's front end reaches the app (netns isolation only). */
  inboundSocket?: string;
  /** runguard's own mount namespace (from /proc/self/ns/mnt), which this one must differ from. */
  hostMountNamespace: string;
  /** Directories bound read-only at their container paths, in this namespace only (secret volumes). */
  mounts: Array<{ source: string; target: string }>;
  /** Files bound read-only over existing paths, in this namespace only (/etc/resolv.conf, /etc/hosts, CAs). */
  guestFiles?: Array<{ source: string; target: string }>;
  /** False in process isolation: the host's network, no relays, no inbound socket. */
  network?: boolean;
  /** The `setpriv` prefix that drops the app's uid and capabilities (runtime/confinement.ts). */
  dropPrivileges?: string[];
  /** A container instance: runc runs it in this namespace instead of `command` (runtime/container-launch.ts). */
  container?: ContainerLaunch;
}

export interface ContainerLaunch {
  /** runc's config.json without `root` (the launcher adds it: the root filesystem it mounts). */
  spec: Record<string, unknown>;
  /** The image's layer directories, top first. */
  layers: string[];
  /** fuse-overlayfs's uidmapping and gidmapping options: image file owners as the instance's host uids. */
  uidMapping: string;
  gidMapping: string;
  /** An empty directory to mount the instance's in-memory filesystem on (private to this namespace). */
  workDir: string;
  /** Bytes of the in-memory filesystem (the image's writes, the bundle, runc's state). */
  memoryBytes: number;
  /** The size a spare mounts that filesystem with before it knows its instance (Cloud Run's default memory). */
  defaultMemoryBytes: number;
  runc: string;
  fuseOverlayfs: string;
  id: string;
}

// runguard may start this launcher ahead of need, as a spare (runtime/warm-launcher.ts): it waits here, running
// nothing, until runguard sends its instance's configuration over the IPC channel (never in the environment or
// a file: it holds the app's secret env vars). runguard gone before that: nothing to clean up, just exit.
const exitUnclaimed = () => process.exit(137);
if (!process.connected) exitUnclaimed(); // started without runguard's channel: nothing will configure it
process.once("disconnect", exitUnclaimed);
// While it waits, a launcher in a network namespace of its own (runguard names its own; this one must differ)
// sets up what every instance's network has: nothing there depends on the instance. Never in runguard's
// namespace: the host's.
const hostNetwork = process.env["RUNGUARD_HOST_NETNS"];
const spareNetwork = process.env["RUNGUARD_SPARE_NETWORK"];
const ownNetwork = hostNetwork !== undefined && readlinkSync("/proc/self/ns/net") !== hostNetwork;
const networkPrepared: Promise<PreparedNetwork | undefined> =
  ownNetwork && spareNetwork
    ? prepareNetwork(JSON.parse(spareNetwork) as SpareNetwork).then(
        (prepared) => {
          // Any port, 80 included, for an app with no capabilities: the namespace is the instance's alone (as on
          // Cloud Run, where a container may listen on any port).
          writeFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "0");
          return prepared;
        },
        () => undefined,
      )
    : Promise.resolve(undefined);
// A spare for a container also mounts the in-memory filesystem, at the default size, where the container's
// will be (on a mount namespace of its own only: the host's must never see it).
const containerDir = process.env["RUNGUARD_CONTAINER_DIR"];
const hostMounts = process.env["RUNGUARD_HOST_MNTNS"];
const presizedTmpfs = Number(process.env["RUNGUARD_CONTAINER_TMPFS"]);
const containerDirReady: Promise<string | undefined> =
  containerDir && hostMounts && readlinkSync("/proc/self/ns/mnt") !== hostMounts && presizedTmpfs > 0
    ? mountContainerDir(containerDir, presizedTmpfs).then(
        () => containerDir,
        () => undefined,
      )
    : Promise.resolve(undefined);
const config = await new Promise<LauncherConfig>((resolve) => {
  const receive = (message: LauncherConfigure) => {
    if (typeof message !== "object" || message === null || typeof message.configure !== "object") return;
    process.off("message", receive);
    resolve(message.configure as LauncherConfig);
  };
  process.on("message", receive);
});
process.off("disconnect", exitUnclaimed);
// runguard gone (killed, crashed): its channel closes. This process is the init of the instance's PID namespace,
// so its exit ends everything in it (runc, the container, fuse-overlayfs): nothing is left running as the
// instance's uid, whose lock died with runguard.
// runc's cgroups outlive it when it is killed: runc deletes the container first, its cgroups with it.
process.on("disconnect", () => {
  const container = config.container;
  if (container)
    spawnSync(container.runc, ["--root", `${container.workDir}/state`, "delete", "--force", container.id], {
      stdio: "ignore",
      timeout: 5000,
    });
  process.exit(137);
});

function appAccepts(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ host: "127.0.0.1", port: config.appPort }, () => {
      probe.destroy();
      resolve(true);
    });
    probe.on("error", () => resolve(false));
  });
}

async function run(file: string, args: string[]): Promise<void> {
  if (!(await runWithInput(file, args, ""))) throw new Error(`${file} ${args.join(" ")} failed`);
}

/** `bind,ro` in one mount(8) run: it binds, then remounts the bind read-only. */
const bindReadOnly = (source: string, target: string) => run("mount", ["-o", "bind,ro", source, target]);

/**
 * The mount namespace is private (unshare --mount): these binds are invisible outside the instance. A missing
 * mount point of a secret volume is created as an empty directory, the one trace this leaves on the host's
 * filesystem; a guest file whose path does not exist on this machine is left out. Never bind anything unless
 * this really is a mount namespace of our own: a bind in the host's namespace would leak the instance's secrets,
 * or its name resolution, to the whole machine.
 */
async function bindInstanceFiles(): Promise<void> {
  const mounts = config.mounts ?? [];
  const guestFiles = network ? (config.guestFiles ?? []) : [];
  if (mounts.length + guestFiles.length === 0) return;
  if (readlinkSync("/proc/self/ns/mnt") === config.hostMountNamespace)
    throw new Error("refusing to mount secret volumes or guest files outside a private mount namespace");
  for (const mount of mounts) mkdirSync(mount.target, { recursive: true });
  await Promise.all([
    ...mounts.map((mount) => bindReadOnly(mount.source, mount.target)),
    ...guestFiles.filter((file) => existsSync(file.target)).map((file) => bindReadOnly(file.source, file.target)),
  ]);
}

async function setUpNetwork(): Promise<void> {
  const prepared = await networkPrepared;
  if (!prepared) writeFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "0");
  await setUpNamespaceNetwork(
    { addresses: config.addresses ?? [], outbound: config.outbound ?? [], dns: config.dns ?? [] },
    prepared,
  );
}

const network = config.network !== false;
// Independent steps side by side: the instance's files, its network, the container's filesystem.
const [, , argv] = await Promise.all([
  bindInstanceFiles(),
  network ? setUpNetwork() : undefined,
  config.container ? prepareContainer(config.container) : [...(config.dropPrivileges ?? []), ...config.command],
]);
const app = spawn(argv[0] ?? "true", argv.slice(1), {
  cwd: config.container ? config.container.workDir : config.cwd,
  env: config.container ? { PATH: process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin" } : config.env,
  // runc copies the container's output to its own stdout and gives up at the first EAGAIN, closing the
  // container's pipe (its next write fails with EPIPE): runc gets pipes of its own, copied here with backpressure.
  stdio: config.container ? ["ignore", "pipe", "pipe"] : "inherit",
});
for (const [from, to] of [
  [app.stdout, process.stdout],
  [app.stderr, process.stderr],
] as const) {
  to.on("error", () => undefined); // runguard gone: the instance ends with this namespace anyway
  from?.pipe(to);
}
app.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => app.kill(signal));
// In process isolation runguard reaches the app on the host's loopback itself: nothing more to set up here.
if (network) await serveInbound();

/**
 * The container's root filesystem and bundle, in this namespace only: a tmpfs (its writes live in memory, as
 * on Cloud Run) holding the overlay's upper layer, runc's bundle and runc's state; the image's layers below,
 * presented by fuse-overlayfs with their owners mapped to the instance's uids. Returns runc's command line.
 */
/** The container's in-memory filesystem, with the directories runc's bundle needs. */
async function mountContainerDir(dir: string, bytes: number): Promise<void> {
  // Traversable (0711) so that runc, as the container's mapped root, reaches the root filesystem below it.
  await run("mount", ["-t", "tmpfs", "-o", `mode=0711,size=${bytes}`, "tmpfs", dir]);
  // The upper layer's own directory is the container's `/`: it takes the mode of an image's root (0755).
  mkdirSync(`${dir}/upper`, { mode: 0o755 });
  for (const sub of ["work", "rootfs", "state"]) mkdirSync(`${dir}/${sub}`, { mode: 0o700 });
}

async function prepareContainer(container: ContainerLaunch): Promise<string[]> {
  if (readlinkSync("/proc/self/ns/mnt") === config.hostMountNamespace)
    throw new Error("refusing to mount a container's filesystem outside a private mount namespace");
  const dir = container.workDir;
  if ((await containerDirReady) !== dir) await mountContainerDir(dir, container.memoryBytes);
  else if (presizedTmpfs !== container.memoryBytes)
    await run("mount", ["-o", `remount,size=${container.memoryBytes}`, dir]);
  await run(container.fuseOverlayfs, [
    "-o",
    [
      `lowerdir=${container.layers.join(":")}`,
      `upperdir=${dir}/upper`,
      `workdir=${dir}/work`,
      `uidmapping=${container.uidMapping}`,
      `gidmapping=${container.gidMapping}`,
      "allow_other",
    ].join(","),
    `${dir}/rootfs`,
  ]); // its notices (options it ignores) are dropped: they are not the app's output
  // The spec holds the app's environment, secret env vars included: a 0600 file on this namespace's tmpfs.
  writeFileSync(
    `${dir}/config.json`,
    JSON.stringify({ ...container.spec, root: { path: "rootfs", readonly: false } }),
    {
      mode: 0o600,
    },
  );
  return [container.runc, "--root", `${dir}/state`, "run", "--bundle", dir, container.id];
}

async function serveInbound(): Promise<void> {
  const inboundSocket = config.inboundSocket;
  if (!inboundSocket) throw new Error("a launcher with a network of its own needs an inbound socket");
  // A refused connection on loopback costs next to nothing: probing often finds the app ready soon after it is.
  while (!(await appAccepts())) await new Promise((r) => setTimeout(r, 5));
  await new Promise<void>((resolve) =>
    createServer((client) => pipeBoth(client, connect({ host: "127.0.0.1", port: config.appPort }))).listen(
      inboundSocket,
      resolve,
    ),
  );
  // runguard waits for this instead of probing the inbound socket at its own, longer intervals.
  const ready: LauncherReady = { ready: true };
  process.send?.(ready);
  // With an IPC channel to runguard (never inherited by the app: Node opens it close-on-exec), runguard's front
  // end asks for connections here and gets the connected socket itself, so requests skip the relay above.
  process.on("message", (message: LauncherRequest) => {
    const id = typeof message === "object" && message !== null ? message.connect : undefined;
    if (typeof id !== "number") return;
    const reply = (answer: LauncherReply, socket?: Socket) => process.send?.(answer, socket);
    const socket = connect({ host: "127.0.0.1", port: config.appPort });
    socket.once("error", (error) => reply({ id, error: error.message }));
    // Sending the socket closes this process's copy of it.
    socket.once("connect", () => reply({ id, connected: true }, socket));
  });
}
