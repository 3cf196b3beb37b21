// The OCI runtime spec (runc's config.json) of one container instance. What confines it:
// - a user namespace in which the container's root and the image's USER map to unprivileged host uids of
//   the instance's own, so nothing in it is root on the machine;
// - its own PID, mount, IPC and UTS namespaces, and the instance's network namespace (made by runguard, whose
//   only ways out are runguard's relays);
// - no capabilities at all (as a process instance), no_new_privs, /proc's sensitive files masked, an empty /sys;
// - a seccomp filter refusing what only a kernel exploit needs: new user namespaces (in which an app would
//   again hold every capability, mount included), keys, bpf, perf, userfaultfd, modules, io_uring;
// - the instance's memory limit and a bound on its processes on its cgroup.
import type { ImageRunConfig } from "../run/container-images.js";

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface ContainerUser {
  uid: number;
  gid: number;
}

export interface OciSpecInput {
  argv: string[];
  /** `NAME=value` entries. */
  env: string[];
  cwd: string;
  user: ContainerUser;
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
  /** Extra bind mounts: secret volumes and the instance's name-resolution and CA files. */
  binds: Array<{ source: string; target: string }>;
  /** Path of the network namespace to join (the instance's). */
  networkNamespace: string;
  /** Bytes, or undefined for no limit. */
  memoryLimit?: number;
  cgroupsPath: string;
}

/**
 * Refused with EPERM, as Docker's default profile does (so images made for Docker never need them). An
 * unprivileged user namespace would give the app every capability inside it (mount, nftables, bpf...):
 * the kernel surface most container escapes go through.
 */
const DENIED_SYSCALLS = [
  "unshare",
  "setns",
  "mount",
  "umount2",
  "pivot_root",
  "fsopen",
  "fsconfig",
  "fsmount",
  "fspick",
  "move_mount",
  "open_tree",
  "mount_setattr",
  "keyctl",
  "add_key",
  "request_key",
  "bpf",
  "perf_event_open",
  "userfaultfd",
  "io_uring_setup",
  "io_uring_enter",
  "io_uring_register",
  "init_module",
  "finit_module",
  "delete_module",
  "kexec_load",
  "kexec_file_load",
  "open_by_handle_at",
  "name_to_handle_at",
  "swapon",
  "swapoff",
  "reboot",
  "acct",
  "quotactl",
  "syslog",
];
const CLONE_NEWUSER = 0x10000000;
const EPERM = 1;
const ENOSYS = 38;
/** The filter covers every ABI a process of this machine can call the kernel with. */
const SECCOMP_ARCHITECTURES: Record<string, string[]> = {
  x64: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  arm64: ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
};

function seccompFilter(): Record<string, unknown> | undefined {
  const architectures = SECCOMP_ARCHITECTURES[process.arch];
  if (!architectures) return undefined;
  return {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures,
    syscalls: [
      { names: DENIED_SYSCALLS, action: "SCMP_ACT_ERRNO", errnoRet: EPERM },
      // clone3's flags are behind a pointer a filter cannot read: ENOSYS makes libc fall back to clone.
      { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS },
      {
        names: ["clone"],
        action: "SCMP_ACT_ERRNO",
        errnoRet: EPERM,
        args: [{ index: 0, value: CLONE_NEWUSER, valueTwo: CLONE_NEWUSER, op: "SCMP_CMP_MASKED_EQ" }],
      },
    ],
  };
}

/** A fork bomb stops here instead of exhausting the machine's pids. */
const MAX_PROCESSES = 1024;

export function ociSpec(input: OciSpecInput): Record<string, unknown> {
  const seccomp = seccompFilter();
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: input.user.uid, gid: input.user.gid },
      args: input.argv,
      env: input.env,
      cwd: input.cwd || "/",
      capabilities: { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] },
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: false },
    // Cloud Run's instances answer to `localhost`.
    hostname: "localhost",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      {
        destination: "/dev",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
      },
      {
        destination: "/dev/pts",
        type: "devpts",
        source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
      },
      {
        destination: "/dev/shm",
        type: "tmpfs",
        source: "shm",
        options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
      },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "tmpfs", source: "tmpfs", options: ["nosuid", "noexec", "nodev", "ro", "size=0"] },
      ...input.binds.map((bind) => ({
        destination: bind.target,
        type: "bind",
        source: bind.source,
        options: ["rbind", "ro", "nosuid", "nodev"],
      })),
    ],
    linux: {
      uidMappings: input.uidMappings,
      gidMappings: input.gidMappings,
      namespaces: [
        { type: "pid" },
        { type: "ipc" },
        { type: "uts" },
        { type: "mount" },
        { type: "user" },
        { type: "network", path: input.networkNamespace },
      ],
      cgroupsPath: input.cgroupsPath,
      resources: {
        devices: [{ allow: false, access: "rwm" }],
        pids: { limit: MAX_PROCESSES },
        ...(input.memoryLimit ? { memory: { limit: input.memoryLimit } } : {}),
      },
      maskedPaths: [
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
      ],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
      ...(seccomp ? { seccomp } : {}),
    },
  };
}

/** Cloud Run's override rules: `command` replaces ENTRYPOINT (and drops CMD), `args` replaces CMD. */
export function containerArgv(config: ImageRunConfig, command?: string[], args?: string[]): string[] {
  const entrypoint = command && command.length > 0 ? command : config.entrypoint;
  const rest = args && args.length > 0 ? args : command && command.length > 0 ? [] : config.cmd;
  return [...entrypoint, ...rest];
}

/** Kubernetes quantities as Cloud Run takes them for memory: 512Mi, 1Gi, 2G, 1000000 (bytes). */
export function parseMemoryLimit(quantity: string | undefined): number | undefined {
  if (!quantity) return undefined;
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/.exec(quantity.trim());
  if (!match) return undefined;
  const units: Record<string, number> = {
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  const bytes = Math.floor(Number(match[1]) * (match[2] ? (units[match[2]] ?? 1) : 1));
  // 0 would mean no limit at all, on the cgroup and on the in-memory filesystem alike.
  return bytes > 0 ? bytes : undefined;
}
