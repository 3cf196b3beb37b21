// `runguard up` with a state file: ./runguard.yaml when it exists, or --config FILE, applied once everything runs.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Runguard } from "../app/runguard.js";
import { applyState, loadState, STATE_FILE_NAME, type DeclaredState } from "../declarative/index.js";
import { summaryLine } from "./state.js";

export interface DeclaredConfig {
  path: string;
  state: DeclaredState;
}

export async function loadDeclaredConfig(configOption: string | undefined): Promise<DeclaredConfig | undefined> {
  const path = configOption ?? (existsSync(STATE_FILE_NAME) ? STATE_FILE_NAME : undefined);
  if (!path) return undefined;
  return { path, state: await loadState(resolve(path)) };
}

/** Applies the state and prints one line; a state that cannot be applied stops `up` (after closing it). */
export async function applyDeclaredConfig(runguard: Runguard, declared: DeclaredConfig): Promise<void> {
  try {
    const summary = await applyState(runguard.platform, declared.state);
    for (const note of summary.notes) console.log(`  note:           ${note}`);
    console.log(`  state:          ${summaryLine(`applied ${declared.path}`, summary)}`);
  } catch (error) {
    await runguard.close();
    throw error;
  }
}
