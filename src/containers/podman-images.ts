// podman's local image store as runguard's ContainerImageStore: `podman image inspect` gives an image's digest,
// its run configuration and (overlay driver) its layer directories, which runguard stacks itself under a
// per-instance in-memory upper layer. runguard never pulls: an image is known once it was built, loaded or
// imported into this store.
import { execFile } from "node:child_process";
import type { ContainerImage, ContainerImageStore, ImageRunConfig } from "../run/container-images.js";

const INSPECT_TIMEOUT_MS = 15_000;
/** A reference podman may be asked about: no options, no whitespace, a sane length. */
const REFERENCE = /^[a-z0-9][a-z0-9._\-/:@]{0,254}$/i;

interface PodmanInspect {
  Id?: string;
  Digest?: string;
  RepoTags?: string[];
  Config?: {
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Env?: string[] | null;
    WorkingDir?: string;
    User?: string;
  };
  GraphDriver?: { Name?: string; Data?: Record<string, string> };
}

export function runPodman(
  args: string[],
  timeoutMs = INSPECT_TIMEOUT_MS,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("podman", args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 127) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The overlay layer directories of an image, top first; undefined for a storage driver runguard cannot stack. */
function layersOf(driver: PodmanInspect["GraphDriver"]): string[] | undefined {
  if (driver?.Name !== "overlay" || !driver.Data?.["UpperDir"]) return undefined;
  const lower = driver.Data["LowerDir"];
  return [driver.Data["UpperDir"], ...(lower ? lower.split(":") : [])];
}

function runConfigOf(config: PodmanInspect["Config"]): ImageRunConfig {
  return {
    entrypoint: config?.Entrypoint ?? [],
    cmd: config?.Cmd ?? [],
    env: config?.Env ?? [],
    workingDir: config?.WorkingDir ?? "",
    user: config?.User ?? "",
  };
}

export function createPodmanImageStore(): ContainerImageStore {
  // Digests never change what they name: an image found by digest is kept.
  const byDigest = new Map<string, ContainerImage>();
  return {
    unavailable: undefined,
    async resolve(ref) {
      if (!REFERENCE.test(ref)) return undefined;
      const cached = byDigest.get(ref);
      if (cached) return cached;
      const inspected = await runPodman(["image", "inspect", "--format", "json", ref]);
      if (inspected.code !== 0) return undefined;
      let found: PodmanInspect | undefined;
      try {
        found = (JSON.parse(inspected.stdout) as PodmanInspect[])[0];
      } catch {
        return undefined;
      }
      const layers = layersOf(found?.GraphDriver);
      if (!found?.Digest || !layers) return undefined;
      const image: ContainerImage = { ref, digest: found.Digest, config: runConfigOf(found.Config), layers };
      if (ref.includes("@sha256:")) byDigest.set(ref, image);
      return image;
    },
  };
}
