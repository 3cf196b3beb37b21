// Starting one instance of a revision, step by step: find its image; give it its own metadata server (its
// service account's identity) and egress proxy; hold a uid and make its directories; start its sidecars; read
// its secrets; launch its process and wait until it listens. Whatever a step took is given back, in reverse
// order, when a later step fails or the instance ends.
import type { Clock } from "../core/clock.js";
import type { Store } from "../store/store.js";
import type { TokenService } from "../tokens/types.js";
import type { Container, StoredRevision } from "../run/types.js";
import { findImage, type ImageEntry } from "../run/images.js";
import { imageNotFoundMessage, type ContainerImage } from "../run/container-images.js";
import type { ContainerEngine } from "../containers/engine.js";
import { removeInstanceCgroups } from "../containers/cgroups.js";
import type { ContainerUser } from "../containers/oci-spec.js";
import { containerLaunch, imageUserOf, needsSeparateRoot } from "./container-launch.js";
import { requireProject } from "../accounts/projects.js";
import { findServiceAccount } from "../accounts/service-accounts.js";
import { createMetadataServer, type MetadataServer } from "../metadata/metadata-server.js";
import type { LocalCa } from "../network/local-ca.js";
import type { EgressContext } from "../egress/egress-policy.js";
import { createInstanceEgress, type InstanceEgress } from "../egress/instance-egress.js";
import { resolveVpcAccess } from "../run/vpc-access.js";
import type { PrivateResourceIndex } from "../network/private-resources.js";
import { buildArgv, buildContainerEnv } from "./container-env.js";
import { dropPrivilegesArgs, type Confinement, type InstanceIdentity } from "./confinement.js";
import { processStartTime, type InstanceDirs } from "./instance-dirs.js";
import { InstanceStartError } from "./instance-errors.js";
import type { InstanceLogWriter } from "./instance-logs.js";
import { acquireInstanceUid, type HeldUid } from "./instance-uids.js";
import type { IsolationMode } from "./isolation.js";
import { containerPortOf, netnsLaunch, processLaunch, type InstanceLaunch } from "./netns-launch.js";
import { findFreePort, startProcessInstance, type RunningInstance } from "./process-instance.js";
import { prepareInstanceSecrets, type InstanceSecrets, type SecretMountDeps } from "./secret-mounts.js";
import { startSidecars, type Sidecars } from "./sidecars.js";
import type { LauncherSource } from "./warm-launcher.js";

/** What starting instances needs of runguard's state: the store, tokens and clock, and what the look-ups take. */
export type InstanceStartDeps = { store: Store; tokens: TokenService; clock: Clock } & Parameters<
  typeof requireProject
>[0] &
  Parameters<typeof findServiceAccount>[0] &
  SecretMountDeps;

export interface InstanceStartOptions {
  platform: InstanceStartDeps;
  ca: LocalCa;
  /** Answers a request an instance makes to a *.run.app URL (the front end, in-process). */
  serveRunApp: EgressContext["serveRunApp"];
  /** Answers a request an instance makes to a Google API (*.googleapis.com): runguard's control plane. */
  serveGoogleApis: EgressContext["serveGoogleApis"];
  /** Answers an instance's gRPC (HTTP/2) connection to a Google API: the control plane's gRPC gateway. */
  serveGrpc?: EgressContext["serveGrpc"];
  privateResources: PrivateResourceIndex;
  /** Own network namespace per instance, or the host's network (see isolation.ts). */
  isolation: IsolationMode;
  /** host:port of the control plane, for client libraries that need an endpoint override. */
  apiEndpoint?: () => string;
  /** Where instances get a private HOME, secret files and sockets (removed when the instance ends). */
  dirs: InstanceDirs;
  /** What confines instances on this machine (confinement.ts). */
  confinement: Confinement;
  /** The container engine: images in the local store run under runc (containers/engine.ts). */
  containers?: ContainerEngine;
  startupTimeoutMs?: number;
}

/** What the instance manager keeps of the instances it starts. */
export interface InstanceStartContext {
  logs: InstanceLogWriter;
  /** Secrets of running instances, so that `latest` file mounts follow new versions. */
  running: Map<string, InstanceSecrets>;
  /** Where instances' launchers come from: a spare started ahead of need when one matches. */
  launchers: LauncherSource;
}

export async function startInstance(
  options: InstanceStartOptions,
  context: InstanceStartContext,
  revision: StoredRevision,
  instanceId: string,
): Promise<RunningInstance> {
  const container = revision.template.spec.containers[0];
  const image = await requireImage(options, revision, container);
  const metadata = await createIdentityServer(options.platform, revision, instanceId);
  const egress = await openInstanceEgress(options, revision);
  const held = options.confinement.uidPerInstance ? await acquireInstanceUid() : undefined;
  const teardown = createTeardown();
  try {
    const place = prepareDirectories(options.dirs, instanceId, held, teardown);
    // runc leaves its cgroups behind when the container is killed rather than stopped.
    if (image.kind === "container") teardown.add(() => removeInstanceCgroups(instanceId));
    if (image.kind === "container" && needsSeparateRoot(image.user)) {
      const root = await acquireInstanceUid();
      teardown.add(() => root.release());
      image.rootUid = root.uid;
    }
    const sidecars = await startSidecars(
      options.isolation,
      metadata,
      egress,
      options.dirs.ca,
      options.apiEndpoint?.(),
      {
        socketDir: place.socketDir,
        ...(place.owner ? { instanceUid: place.owner.uid } : {}),
      },
    );
    teardown.add(() => sidecars.stop());
    const secrets = await prepareInstanceSecrets(options.platform, revision, place.secretsDir);
    context.running.set(instanceId, secrets);
    teardown.add(() => {
      context.running.delete(instanceId);
      secrets.remove();
    });
    const launch =
      image.kind === "container"
        ? planContainerLaunch(options, instanceId, revision, image, place, sidecars, secrets)
        : await planLaunch(options.confinement, revision, image.entry, container, place, sidecars, secrets);
    const cwd = image.kind === "container" ? place.home : image.entry.dir;
    const instance = await startProcessInstance(
      { id: instanceId, ...launch, cwd, startupTimeoutMs: options.startupTimeoutMs ?? 30_000 },
      {
        onLog: (stream, line) => context.logs.write(revision, instanceId, stream, line),
        onExit: () => void teardown.run(),
      },
      context.launchers,
    );
    recordProcess(options.dirs, instanceId, place.owner, instance, teardown);
    return instance;
  } catch (error) {
    await teardown.run();
    throw error;
  }
}

/** A catalogue entry (a local command) or an image of the local container store, with the user it runs as. */
type InstanceImage =
  | { kind: "catalogue"; entry: ImageEntry }
  | { kind: "container"; image: ContainerImage; user: ContainerUser; rootUid?: number };

async function requireImage(
  options: InstanceStartOptions,
  revision: StoredRevision,
  container: Container | undefined,
): Promise<InstanceImage> {
  const ref = container?.image ?? "";
  const entry = await findImage(options.platform.store, ref);
  if (entry) return { kind: "catalogue", entry };
  const engine = options.containers;
  if (engine?.tools) {
    // The revision runs the digest it was deployed with, even if the tag has moved since (as on Cloud Run).
    const image = (await engine.images.resolve(revision.imageDigest)) ?? (await engine.images.resolve(ref));
    if (image) {
      try {
        return { kind: "container", image, user: imageUserOf(image) };
      } catch (error) {
        throw new InstanceStartError("image-not-found", (error as Error).message);
      }
    }
  }
  const reason = engine?.images.unavailable;
  throw new InstanceStartError(
    "image-not-found",
    reason ? `Image '${ref}' cannot run: containers are unavailable here (${reason}).` : imageNotFoundMessage(ref),
  );
}

/** The instance's own metadata server: the identity of its service account, in its project and region. */
async function createIdentityServer(
  platform: InstanceStartDeps,
  revision: StoredRevision,
  instanceId: string,
): Promise<MetadataServer> {
  const project = await requireProject(platform, revision.projectId);
  const account = await findServiceAccount(platform, "-", revision.serviceAccountEmail);
  return createMetadataServer({
    identity: {
      serviceAccountEmail: revision.serviceAccountEmail,
      serviceAccountUniqueId: account?.uniqueId ?? "0",
      projectId: project.projectId,
      projectNumber: project.projectNumber,
      region: revision.region,
      instanceId,
    },
    tokens: platform.tokens,
    clock: platform.clock,
  });
}

/**
 * The instance's ways out (egress proxy, Google API address, private addresses): what it may reach follows its
 * project, its VPC access and the private resources.
 */
async function openInstanceEgress(options: InstanceStartOptions, revision: StoredRevision): Promise<InstanceEgress> {
  const vpc = await resolveVpcAccess(
    options.platform.store,
    revision.template,
    revision.projectId,
    revision.region,
  ).catch(() => undefined);
  const context: EgressContext = {
    projectId: revision.projectId,
    ...(vpc ? { vpc } : {}),
    privateResources: options.privateResources.list,
    serveRunApp: options.serveRunApp,
    serveGoogleApis: options.serveGoogleApis,
    ...(options.serveGrpc ? { serveGrpc: options.serveGrpc } : {}),
  };
  return createInstanceEgress(options.ca, context);
}

/** Where the instance lives on disk, and the uid that owns it when instances have uids of their own. */
interface InstancePlace {
  owner?: InstanceIdentity;
  socketDir: string;
  home: string;
  secretsDir: string;
}

/**
 * Makes the instance's socket directory, HOME and secrets directory. Everything of the instance on disk goes
 * when it ends, and its uid is freed then (nothing is left running as it).
 */
function prepareDirectories(
  dirs: InstanceDirs,
  instanceId: string,
  held: HeldUid | undefined,
  teardown: Teardown,
): InstancePlace {
  const owner = held ? { uid: held.uid, gid: held.gid } : undefined;
  const made: string[] = [];
  teardown.add(async () => {
    dirs.forget(instanceId, made);
    await held?.release();
  });
  if (owner) dirs.record(instanceId, { uid: owner.uid });
  let socketDir: string, home: string, secretsDir: string;
  made.push((socketDir = dirs.createSocketDir()));
  made.push((home = dirs.createHome(instanceId, owner)));
  made.push((secretsDir = dirs.createSecretsDir(instanceId, owner)));
  return { ...(owner ? { owner } : {}), socketDir, home, secretsDir };
}

/** The command, environment and port the instance starts with: through the netns launcher or as a plain process. */
async function planLaunch(
  confinement: Confinement,
  revision: StoredRevision,
  image: ImageEntry,
  container: Container | undefined,
  place: InstancePlace,
  sidecars: Sidecars,
  secrets: InstanceSecrets,
): Promise<InstanceLaunch> {
  const port = sidecars.sockets
    ? (image.fixedPort ?? containerPortOf(revision))
    : (image.fixedPort ?? (await findFreePort()));
  const env = buildContainerEnv(revision, port, sidecars.network, secrets.env, place.home);
  // In a mount namespace secret files are at their container paths; otherwise under RUNGUARD_MOUNT_ROOT.
  env["RUNGUARD_MOUNT_ROOT"] = sidecars.sockets ? "" : secrets.mountRoot;
  if (sidecars.apiEndpoint) env["RUNGUARD_API_ENDPOINT"] = sidecars.apiEndpoint;
  const argv = buildArgv(image.command, container?.command, container?.args);
  const confine = {
    dropPrivileges: dropPrivilegesArgs(confinement, place.owner),
    pidNamespace: confinement.pidNamespace,
  };
  return sidecars.sockets
    ? netnsLaunch(argv, image.dir, env, port, sidecars.sockets, secrets.mounts, sidecars.guestFiles, confine)
    : processLaunch(argv, image.dir, env, port, confine);
}

/** A container instance: runc in the instance's namespaces, its ids mapped to the instance's uids. */
function planContainerLaunch(
  options: InstanceStartOptions,
  instanceId: string,
  revision: StoredRevision,
  image: Extract<InstanceImage, { kind: "container" }>,
  place: InstancePlace,
  sidecars: Sidecars,
  secrets: InstanceSecrets,
): InstanceLaunch {
  const tools = options.containers?.tools;
  if (!sidecars.sockets || !tools || !place.owner)
    throw new InstanceStartError("image-not-found", "Containers need a network namespace and a uid per instance.");
  return containerLaunch({
    instanceId,
    image: image.image,
    revision,
    port: containerPortOf(revision),
    user: image.user,
    uids: { user: place.owner.uid, ...(image.rootUid !== undefined ? { root: image.rootUid } : {}) },
    secretEnv: secrets.env,
    binds: [...secrets.mounts, ...(sidecars.guestFiles ?? [])],
    sockets: sidecars.sockets,
    workDir: tools.mountPoint,
    tools,
    pidNamespace: options.confinement.pidNamespace,
  });
}

/** Records the running process, so that the next start on this data directory can stop it if runguard dies. */
function recordProcess(
  dirs: InstanceDirs,
  instanceId: string,
  owner: InstanceIdentity | undefined,
  instance: RunningInstance,
  teardown: Teardown,
): void {
  const startTime = processStartTime(instance.pid);
  // An instance that already ended has had its record removed.
  if (startTime && !teardown.started)
    dirs.record(instanceId, { ...(owner ? { uid: owner.uid } : {}), pid: instance.pid, startTime });
}

/** What an instance took, given back in reverse order, once. */
interface Teardown {
  add(step: () => void | Promise<void>): void;
  run(): Promise<void>;
  readonly started: boolean;
}

function createTeardown(): Teardown {
  const steps: Array<() => void | Promise<void>> = [];
  let done: Promise<void> | undefined;
  return {
    add: (step) => void steps.push(step),
    run: () =>
      (done ??= (async () => {
        for (const step of [...steps].reverse()) await step();
      })()),
    get started() {
      return done !== undefined;
    },
  };
}
