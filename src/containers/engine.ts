// Whether this machine can run container instances, and with which tools. runguard drives runc itself over
// an OCI bundle it writes per instance (podman only keeps the image store and builds): runguard already makes
// each instance's network, PID and mount namespaces, relays and secret mounts, and the container must join
// them; `podman run` would make its own, and its conmon and storage set-up cost hundreds of milliseconds per
// start that runc alone does not.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { noContainerImages, type ContainerImageStore } from "../run/container-images.js";
import { createPodmanImageStore } from "./podman-images.js";
import { sweepStaleCgroups } from "./cgroups.js";

export interface ContainerEngine {
  images: ContainerImageStore;
  /** Absolute paths of the tools an instance's launcher runs; undefined when containers cannot run. */
  tools?: { runc: string; fuseOverlayfs: string; mountPoint: string };
}

/**
 * Where each instance's launcher mounts its container's in-memory filesystem, in its own mount namespace
 * only: the directory stays empty on the machine. It must be reachable by the container's own (mapped) root
 * while runc sets up the root filesystem, so it sits in a directory anyone may traverse, unlike runguard's own.
 */
const CONTAINER_MOUNT_POINT = "/run/runguard-container";

function which(command: string, fallbacks: string[]): string | undefined {
  const found = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).stdout.trim();
  if (found) return found;
  return fallbacks.find((path) => existsSync(path));
}

/**
 * Finds podman (the image store), runc (the OCI runtime) and fuse-overlayfs (each instance's root filesystem:
 * the image's layers under an in-memory upper layer, with file owners mapped to the instance's uids). Containers
 * need root and a network namespace per instance; without them runguard keeps only the process runtime.
 */
export function detectContainerEngine(networkNamespaces: boolean): ContainerEngine {
  const unavailable = (reason: string): ContainerEngine => ({ images: noContainerImages(reason) });
  if (process.getuid?.() !== 0) return unavailable("containers need runguard to run as root");
  if (!networkNamespaces) return unavailable("containers need a network namespace per instance");
  const podman = which("podman", ["/usr/bin/podman"]);
  const runc = which("runc", ["/usr/sbin/runc", "/usr/bin/runc"]);
  const fuseOverlayfs = which("fuse-overlayfs", ["/usr/bin/fuse-overlayfs"]);
  const missing = [!podman && "podman", !runc && "runc", !fuseOverlayfs && "fuse-overlayfs"].filter(Boolean);
  if (missing.length > 0 || !runc || !fuseOverlayfs)
    return unavailable(`${missing.join(", ")} not installed (apt-get install podman runc fuse-overlayfs)`);
  if (!existsSync("/dev/fuse")) return unavailable("/dev/fuse is missing");
  sweepStaleCgroups();
  mkdirSync(CONTAINER_MOUNT_POINT, { recursive: true, mode: 0o711 });
  chmodSync(CONTAINER_MOUNT_POINT, 0o711);
  return { images: createPodmanImageStore(), tools: { runc, fuseOverlayfs, mountPoint: CONTAINER_MOUNT_POINT } };
}
