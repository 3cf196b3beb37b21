// The platform the state commands work on, opened from the data directory: its store, its KEK (secret values are
// sealed with it), an IAM engine kept equal to the store, and the image store `up` uses. Unlike openPlatform it
// leaves the directories a running `up` owns (uploads, builds) alone.
import { systemClock } from "../core/clock.js";
import { openSqliteStore } from "../store/sqlite-store.js";
import { createPolicyEngine } from "../iam/engine.js";
import { createEnvelope } from "../secrets/envelope.js";
import { kekSourceOf, loadKeyEncryptionKey } from "../secrets/key-encryption-key.js";
import { syncEngine } from "../app/engine-sync.js";
import { createPodmanImageStore } from "../containers/podman-images.js";
import { noContainerImages } from "../run/container-images.js";
import { requireProject } from "../accounts/projects.js";
import type { DeclarativePlatform } from "../declarative/index.js";
import { readEndpoints } from "./local.js";

export interface StateSession {
  platform: DeclarativePlatform;
  projectNumber: string;
  close(): Promise<void>;
}

export async function openStateSession(dataDir: string): Promise<StateSession> {
  const endpoints = readEndpoints(dataDir);
  const envelope = createEnvelope(loadKeyEncryptionKey(dataDir, kekSourceOf(undefined)));
  const store = openSqliteStore({ dataDir });
  const engine = createPolicyEngine({ clock: systemClock });
  const stopSync = await syncEngine(store, engine);
  const platform: DeclarativePlatform = {
    config: { projectId: endpoints.projectId, ownerEmail: endpoints.ownerEmail, region: endpoints.region },
    clock: systemClock,
    store,
    engine,
    envelope,
    // Images resolve as `up` resolves them: from podman's store where containers run, else the catalogue only.
    containerImages:
      endpoints.containers === "available" ? createPodmanImageStore() : noContainerImages(endpoints.containers),
  };
  try {
    const project = await requireProject(platform, endpoints.projectId);
    return {
      platform,
      projectNumber: project.projectNumber,
      async close() {
        stopSync();
        await store.close();
      },
    };
  } catch (error) {
    stopSync();
    await store.close();
    throw error;
  }
}
