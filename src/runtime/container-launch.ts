// How a container instance starts: through the same launcher as a netns process instance (its own network,
// PID and mount namespaces, the relays to its metadata server and egress), which then mounts the image's
// root filesystem and runs runc on a bundle made from the OCI spec below (containers/oci-spec.ts).
import type { ContainerImage } from "../run/container-images.js";
import type { Container, StoredRevision } from "../run/types.js";
import { containerArgv, ociSpec, parseMemoryLimit, type IdMapping } from "../containers/oci-spec.js";
import { resolveImageUser } from "../containers/image-user.js";
import type { ContainerUser } from "../containers/oci-spec.js";
import { netnsLaunch, type InstanceLaunch } from "./netns-launch.js";
import type { ContainerLaunch } from "./netns-launcher.js";
import type { NamespaceNetwork } from "./namespace-network.js";

/** Cloud Run's default memory limit. */
const DEFAULT_MEMORY = 512 * 1024 ** 2;
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The host uids a container's ids map to: the image's USER to the instance's uid, its root to a second one. */
export interface ContainerUids {
  /** The instance's own uid (owner of its secret files), which the image's USER becomes. */
  user: number;
  /** Another uid of the instance's, which the container's root becomes when USER is not root. */
  root?: number;
}

/** Whether a container running as `user` needs a second host uid for its root. */
export function needsSeparateRoot(user: ContainerUser): boolean {
  return user.uid !== 0 || user.gid !== 0;
}

function idMappings(inside: number, uids: ContainerUids): IdMapping[] {
  if (inside === 0) return [{ containerID: 0, hostID: uids.user, size: 1 }];
  if (uids.root === undefined) throw new Error("a non-root container needs a host uid for its root");
  return [
    { containerID: 0, hostID: uids.root, size: 1 },
    { containerID: inside, hostID: uids.user, size: 1 },
  ];
}

const mappingOption = (mappings: IdMapping[]) =>
  mappings.map((m) => `${m.containerID}:${m.hostID}:${m.size}`).join(":");

/**
 * The container's environment, in Cloud Run's order of precedence: the image's ENV, then the revision's env
 * vars and secrets, then the contract's own (PORT, K_SERVICE, K_REVISION, K_CONFIGURATION). TLS clients that
 * ignore the system bundle (Node, Python's requests) are pointed at it, since it holds runguard's local CA.
 */
export function containerEnv(
  image: ContainerImage,
  revision: StoredRevision,
  container: Container | undefined,
  port: number,
  secretEnv: Record<string, string>,
  user: ContainerUser,
): string[] {
  const env = new Map<string, string>([
    ["PATH", DEFAULT_PATH],
    ["HOME", user.uid === 0 ? "/root" : "/"],
  ]);
  for (const entry of image.config.env) {
    const equals = entry.indexOf("=");
    if (equals > 0) env.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  const bundle = "/etc/ssl/certs/ca-certificates.crt";
  for (const key of ["NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
    if (!env.has(key)) env.set(key, bundle);
  for (const variable of container?.env ?? []) if (variable.value !== undefined) env.set(variable.name, variable.value);
  for (const [name, value] of Object.entries(secretEnv)) env.set(name, value);
  env.set("PORT", String(port));
  env.set("K_SERVICE", revision.service);
  env.set("K_REVISION", revision.name);
  env.set("K_CONFIGURATION", revision.service);
  return [...env].map(([name, value]) => `${name}=${value}`);
}

export function imageUserOf(image: ContainerImage): ContainerUser {
  return resolveImageUser(image.config.user, image.layers);
}

export interface ContainerLaunchInput {
  instanceId: string;
  image: ContainerImage;
  revision: StoredRevision;
  port: number;
  user: ContainerUser;
  uids: ContainerUids;
  secretEnv: Record<string, string>;
  /** Secret volumes and the instance's name-resolution and CA files: host path → path in the container. */
  binds: Array<{ source: string; target: string }>;
  /** The inbound socket, and the namespace's addresses, relays and DNS (runtime/sidecars.ts). */
  sockets: NamespaceNetwork & { inbound: string };
  /** Where the launcher mounts the instance's in-memory filesystem, in its own mount namespace. */
  workDir: string;
  tools: { runc: string; fuseOverlayfs: string };
  pidNamespace: boolean;
}

export function containerLaunch(input: ContainerLaunchInput): InstanceLaunch {
  const container = input.revision.template.spec.containers[0];
  const uidMappings = idMappings(input.user.uid, input.uids);
  const gidMappings = idMappings(input.user.gid, input.uids);
  const memoryLimit = parseMemoryLimit(container?.resources?.limits?.["memory"]) ?? DEFAULT_MEMORY;
  const spec = ociSpec({
    argv: containerArgv(input.image.config, container?.command, container?.args),
    env: containerEnv(input.image, input.revision, container, input.port, input.secretEnv, input.user),
    cwd: input.image.config.workingDir,
    user: input.user,
    uidMappings,
    gidMappings,
    binds: input.binds,
    // runc runs in the launcher's network namespace, the instance's: the container joins it.
    networkNamespace: "/proc/self/ns/net",
    memoryLimit,
    cgroupsPath: `/runguard/${input.instanceId}`,
  });
  const launch: ContainerLaunch = {
    spec,
    layers: input.image.layers,
    uidMapping: mappingOption(uidMappings),
    gidMapping: mappingOption(gidMappings),
    workDir: input.workDir,
    memoryBytes: memoryLimit,
    defaultMemoryBytes: DEFAULT_MEMORY,
    runc: input.tools.runc,
    fuseOverlayfs: input.tools.fuseOverlayfs,
    id: `runguard-${input.instanceId}`,
  };
  const confine = { dropPrivileges: [], pidNamespace: input.pidNamespace };
  // The guest files and secret volumes are bound by runc inside the container (binds above), not by the launcher.
  return netnsLaunch([], "/", {}, input.port, input.sockets, [], [], confine, launch);
}
