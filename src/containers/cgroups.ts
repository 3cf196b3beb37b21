// The cgroups runc makes for container instances (`/runguard/<instance id>` under every controller). runc
// removes them itself only when it outlives its container; an instance stopped with SIGKILL (after its 10 s of
// SIGTERM) or a killed runguard leaves them behind, empty. rmdir removes a cgroup only once no task is left in
// it, so removing one that is still in use is impossible by construction.
import { readdirSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";

const CGROUP_ROOT = "/sys/fs/cgroup";
export const CGROUP_PARENT = "runguard";

/** Every `runguard` directory, one per mounted controller hierarchy (cgroup v1) or the unified one (v2). */
function parents(): string[] {
  let entries: string[];
  try {
    entries = readdirSync(CGROUP_ROOT);
  } catch {
    return [];
  }
  return [join(CGROUP_ROOT, CGROUP_PARENT), ...entries.map((entry) => join(CGROUP_ROOT, entry, CGROUP_PARENT))];
}

function removeEmpty(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT";
  }
}

/** Removes an ended instance's cgroups, retrying briefly while its last processes are reaped. */
export async function removeInstanceCgroups(instanceId: string): Promise<void> {
  let left = parents().map((parent) => join(parent, instanceId));
  for (let attempt = 0; attempt < 20 && left.length > 0; attempt++) {
    left = left.filter((dir) => !removeEmpty(dir));
    if (left.length > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * At start: removes the empty instance cgroups earlier runs left. Only those a minute old or more, so that an
 * instance another runguard on this machine is starting right now keeps its own.
 */
export function sweepStaleCgroups(now = Date.now()): number {
  let removed = 0;
  for (const parent of parents()) {
    let children: string[];
    try {
      children = readdirSync(parent, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name);
    } catch {
      continue;
    }
    for (const child of children) {
      const dir = join(parent, child);
      try {
        if (now - statSync(dir).mtimeMs < 60_000) continue;
      } catch {
        continue;
      }
      if (removeEmpty(dir)) removed++;
    }
  }
  return removed;
}
