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
): Promise<OpenedPlatform> {
  // The KEK first: a missing or wrong one stops the start before the store is opened.
  const envelope = createEnvelope(loadKeyEncryptionKey(config.dataDir, kekSourceOf(config.kekFile)));
  const store = openSqliteStore({
    dataDir: config.dataDir,
    requestLogRetention: {
      maxAgeMs: config.requestLogMaxAgeDays * 24 * 3600_000,
      maxBytes: config.requestLogMaxBytes,
      checkEveryMs: config.requestLogRetentionCheckMs,
    },
  });
  if ((await sealClearSigningKeys(store, envelope)) > 0) await store.scrub();
  const engine = createPolicyEngine({ clock });
  const subjects = await createSubjectIndex(store);
  const tokens = createTokenService({ store, clock, envelope, resolveSubject: (sub) => subjects.resolve(sub) });
  const platform: Platform = { config, clock, store, engine, tokens, subjects, envelope, containerImages };
  await ensureProject(platform, config.projectId, config.ownerEmail);
  const stopSync = await syncEngine(store, engine);
  return {
    ...platform,
    async close() {
      stopSync();
      subjects.close();
      await store.close();
    },
  };
}
