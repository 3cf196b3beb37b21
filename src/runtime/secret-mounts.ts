// Secrets for one instance: env-var secrets are read once at start; file secrets are written into the
// instance's private mount directory (0700 directories, 0600 files) and follow their version: rewritten when a
// `latest` reference gets a new version, removed while the version they show is disabled or destroyed (Cloud
// Run reads the volume from Secret Manager on each read, so such a read fails), written again when re-enabled. In the process runtime a container path such as /secrets/credentials is
// mapped to $RUNGUARD_MOUNT_ROOT/secrets/credentials (see the README).
import { chmodSync, chownSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { StoredRevision } from "../run/types.js";
import { secretLocation, type SecretReference } from "../secrets/references.js";
import { readSecretReference, secretReferences } from "../run/revision-secrets.js";
import { InstanceStartError } from "./instance-errors.js";

/** What reading a secret for an instance takes: whatever run/revision-secrets.ts needs. */
export type SecretMountDeps = Parameters<typeof readSecretReference>[0];

export interface InstanceSecrets {
  env: Record<string, string>;
  mountRoot: string;
  /** Each secret volume's directory here and its container path, for sandboxes that can bind-mount it. */
  mounts: Array<{ source: string; target: string }>;
  /** Brings the files of `secretResource` (projects/P/secrets/S; every secret when omitted) in line with their versions. */
  refresh(secretResource?: string): Promise<void>;
  /** Removes the files: nothing of a secret outlives its instance on disk. */
  remove(): void;
}

/** The mount path of the volume a file reference belongs to. */
function volumePathOf(revision: StoredRevision, reference: SecretReference): string {
  const mounts = revision.template.spec.containers[0]?.volumeMounts ?? [];
  const mount = mounts.find((m) => reference.target.startsWith(`${m.mountPath.replace(/\/$/, "")}/`));
  return (mount?.mountPath ?? dirname(reference.target)).replace(/\/$/, "");
}

async function writeFile(
  platform: SecretMountDeps,
  revision: StoredRevision,
  root: string,
  reference: SecretReference,
): Promise<void> {
  const payload = await readSecretReference(platform, reference, revision.projectId, revision.serviceAccountEmail);
  const file = join(root, reference.target);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, payload, { mode: 0o600 });
  chmodSync(file, 0o600);
  handOver(root, file);
}

/**
 * With a uid per instance, the mount root belongs to the instance's group (runtime/instance-dirs.ts): each
 * file becomes its uid's (an instance's gid equals its uid) and each directory root's, readable by its group
 * but never writable, so the instance cannot swap a path that runguard writes to for a link.
 */
function handOver(root: string, file: string): void {
  const { gid } = statSync(root);
  if (process.getuid?.() !== 0 || gid === 0) return;
  chownSync(file, gid, gid);
  for (let dir = dirname(file); dir.startsWith(root); dir = dirname(dir)) {
    chownSync(dir, 0, gid);
    chmodSync(dir, 0o750);
  }
}

export async function prepareInstanceSecrets(
  platform: SecretMountDeps,
  revision: StoredRevision,
  home: string,
): Promise<InstanceSecrets> {
  const references = secretReferences(revision.template);
  const mountRoot = join(home, "mounts");
  mkdirSync(mountRoot, { recursive: true, mode: 0o700 });
  const env: Record<string, string> = {};
  try {
    for (const reference of references) {
      if (reference.kind === "env") {
        env[reference.target] = (
          await readSecretReference(platform, reference, revision.projectId, revision.serviceAccountEmail)
        ).toString("utf8");
      } else {
        await writeFile(platform, revision, mountRoot, reference);
      }
    }
  } catch (error) {
    rmSync(mountRoot, { recursive: true, force: true });
    // The reason names the secret, never its value.
    throw new InstanceStartError(
      "secret-unreadable",
      `The instance could not start: a secret could not be read (${(error as Error).message}).`,
    );
  }
  const ownerOf = (reference: SecretReference) => {
    const { project, secretId } = secretLocation(reference, revision.projectId);
    return `projects/${project}/secrets/${secretId}`;
  };
  const mounts = [...new Set(references.filter((r) => r.kind === "file").map((r) => volumePathOf(revision, r)))].map(
    (target) => {
      const source = join(mountRoot, target);
      mkdirSync(source, { recursive: true, mode: 0o700 });
      return { source, target };
    },
  );
  // Refreshes run one after another, so a late read never overwrites what a newer change decided.
  let refreshed = Promise.resolve();
  const refreshNow = async (secretResource?: string) => {
    for (const reference of references) {
      if (reference.kind !== "file" || (secretResource && ownerOf(reference) !== secretResource)) continue;
      // A version that cannot be read (disabled, destroyed, access revoked) is no longer served.
      await writeFile(platform, revision, mountRoot, reference).catch(() =>
        rmSync(join(mountRoot, reference.target), { force: true }),
      );
    }
  };
  return {
    env,
    mountRoot,
    mounts,
    refresh(secretResource) {
      refreshed = refreshed.then(() => refreshNow(secretResource)).catch(() => undefined);
      return refreshed;
    },
    remove: () => rmSync(mountRoot, { recursive: true, force: true }),
  };
}
