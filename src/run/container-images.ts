// Container images as the control plane and the runtime see them: a reference users write
// (`localhost/app:1`, `us-docker.pkg.dev/P/repo/app:tag`, `…@sha256:…`) resolved in a local image store to a
// digest, the image's run configuration and its layers. The store itself (podman's) is an adapter in
// containers/; this is the port.

/** What an image says about how to run it (the OCI image config). */
export interface ImageRunConfig {
  entrypoint: string[];
  cmd: string[];
  /** `NAME=value` entries, in order. */
  env: string[];
  workingDir: string;
  /** `uid`, `uid:gid`, `name` or `name:group`, as the image's USER wrote it; empty means root. */
  user: string;
}

export interface ContainerImage {
  /** The reference as resolved, e.g. `localhost/app:1`. */
  ref: string;
  /** The image manifest's digest, `sha256:…`. */
  digest: string;
  config: ImageRunConfig;
  /** The image's layer directories, top layer first (an overlay's lowerdir order). */
  layers: string[];
}

export interface ContainerImageStore {
  /** Why containers cannot run here (no podman, no runc…), or undefined when they can. */
  readonly unavailable: string | undefined;
  resolve(ref: string): Promise<ContainerImage | undefined>;
}

/** A store on a machine without a container engine: every image is unknown. */
export function noContainerImages(reason: string): ContainerImageStore {
  return { unavailable: reason, resolve: async () => undefined };
}

/** `REPO@sha256:…`, the form Cloud Run records in a revision's status.imageDigest. */
export function pinnedImageRef(ref: string, digest: string): string {
  return `${repositoryOf(ref)}@${digest}`;
}

/** The reference without its tag or digest: `localhost:5000/app:1` → `localhost:5000/app`. */
export function repositoryOf(ref: string): string {
  const withoutDigest = ref.split("@")[0] ?? ref;
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.indexOf(":", lastSlash + 1);
  return colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
}

/** Cloud Run's words for an image it cannot find, and one line on how to make it known to runguard. */
export function imageNotFoundMessage(ref: string): string {
  return (
    `Image '${ref}' not found.\n` +
    `runguard runs images from the local container store: build it ('runguard build --tag ${ref} DIR' or ` +
    `'podman build -t ${ref} DIR'), load it ('podman load -i IMAGE.tar'), or add a local command ('runguard images add').`
  );
}
