// Composition root for the shared platform: store, IAM engine, token service, default project.
import { systemClock, type Clock } from "../core/clock.js";
import type { Config } from "../core/config.js";
import type { Platform } from "../core/platform.js";
import { ensureProject } from "../accounts/projects.js";
import { createPolicyEngine } from "../iam/engine.js";
import { openSqliteStore } from "../store/sqlite-store.js";
import { createTokenService } from "../tokens/token-service.js";
import { syncEngine } from "./engine-sync.js";
import { createSubjectIndex } from "../accounts/subject-index.js";
import { createEnvelope, loadKeyEncryptionKey } from "../secrets/envelope.js";
import { join } from "node:path";

export interface OpenedPlatform extends Platform {
  close(): Promise<void>;
}

export async function openPlatform(config: Config, clock: Clock = systemClock): Promise<OpenedPlatform> {
  const store = openSqliteStore({ dataDir: config.dataDir });
  const engine = createPolicyEngine({ clock });
  const subjects = await createSubjectIndex(store);
  const tokens = createTokenService({ store, clock, resolveSubject: (sub) => subjects.resolve(sub) });
  const envelope = createEnvelope(loadKeyEncryptionKey(join(config.dataDir, "keys", "secrets.kek")));
  const platform: Platform = { config, clock, store, engine, tokens, subjects, envelope };
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
