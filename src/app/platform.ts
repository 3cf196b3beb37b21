// Composition root for the shared platform: store, IAM engine, token service, default project.
import { systemClock, type Clock } from "../core/clock.js";
import type { ApiDeps } from "../control-plane/api-deps.js";
import type { Config } from "../core/config.js";
import { ensureProject } from "../accounts/projects.js";
import { createPolicyEngine } from "../iam/engine.js";
import { openSqliteStore } from "../store/sqlite-store.js";
import { createTokenService } from "../tokens/token-service.js";
import { syncEngine } from "./engine-sync.js";
import { createSubjectIndex } from "../accounts/subject-index.js";
import { createEnvelope } from "../secrets/envelope.js";
import { kekSourceOf, loadKeyEncryptionKey } from "../secrets/key-encryption-key.js";
import type { ContainerImageStore } from "../run/container-images.js";
import { sealClearSigningKeys } from "../tokens/key-ring.js";
import { createSourceBuildsRuntime } from "../builds/runtime.js";
import type { ImageBuilder } from "../builds/types.js";

/**
 * The shared services app/ builds once and hands, a few at a time, to the components it composes. The control
 * plane's handlers between them use every one, so its deps interface is this set.
 */
export type Platform = ApiDeps;

export interface OpenedPlatform extends Platform {
  close(): Promise<void>;
}

export async function openPlatform(
  config: Config,
  containerImages: ContainerImageStore,
  clock: Clock = systemClock,
  imageBuilder: ImageBuilder = cannotBuild(containerImages.unavailable ?? "no image builder was given"),
): Promise<OpenedPlatform> {
  // The KEK first: a missing or wrong one stops the start before the store is opened.
  const envelope = createEnvelope(loadKeyEncryptionKey(config.dataDir, kekSourceOf(config.kekFile)));
  const store = openSqliteStore({
    dataDir: config.dataDir,
    logRetention: {
      maxAgeMs: config.requestLogMaxAgeDays * 24 * 3600_000,
      maxBytes: config.requestLogMaxBytes,
      checkEveryMs: config.requestLogRetentionCheckMs,
    },
  });
  if ((await sealClearSigningKeys(store, envelope)) > 0) await store.scrub();
  const engine = createPolicyEngine({ clock });
  const subjects = await createSubjectIndex(store);
  const tokens = createTokenService({
    store,
    clock,
    envelope,
    resolveSubject: (sub) => subjects.resolve(sub),
    serviceAccountUniqueId: (email) => subjects.serviceAccountUniqueId(email),
    onServiceAccountChange: (listener) => subjects.onServiceAccountChange(listener),
  });
  const sourceBuilds = createSourceBuildsRuntime(config.dataDir, imageBuilder);
  const platform: Platform = {
    config,
    clock,
    store,
    engine,
    tokens,
    subjects,
    envelope,
    containerImages,
    sourceBuilds,
  };
  await ensureProject(platform, config.projectId, config.ownerEmail);
  const stopSync = await syncEngine(store, engine);
  return {
    ...platform,
    async close() {
      await sourceBuilds.close();
      stopSync();
      subjects.close();
      await store.close();
    },
  };
}

/** A builder for a machine where images cannot be built or run: every build fails, saying why. */
export function cannotBuild(reason: string): ImageBuilder {
  return {
    build: () => Promise.reject(new Error(`runguard cannot build container images here: ${reason}.`)),
  };
}
