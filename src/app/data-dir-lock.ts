// One `runguard up` per data directory: DATA_DIR/runguard.lock, created exclusively, holds the owner's pid. A
// lock whose process is gone (killed, crashed) is stale and taken over.
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { StartupError } from "../core/errors.js";
import { launcherPid } from "./node-flags.js";

export const lockFile = (dataDir: string) => join(dataDir, "runguard.lock");

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the data directory's lock, or throws a StartupError naming the process that holds it. */
export function lockDataDir(dataDir: string): { release(): void } {
  const file = lockFile(dataDir);
  if (mkdirSync(dataDir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(dataDir, 0o700);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, "wx", 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      let holder = Number.NaN;
      try {
        holder = Number.parseInt(readFileSync(file, "utf8"), 10);
      } catch {
        continue; // removed meanwhile: try again
      }
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder))
        throw new StartupError(
          `runguard is already running on data directory ${dataDir} (pid ${holder}): stop it first, or use another --data-dir.`,
        );
      // Stale (its process is gone, or the file is empty from a crash while writing it): take it over.
      rmSync(file, { force: true });
      continue;
    }
    // The process the user started, which is the one to stop (a launcher passes signals on: node-flags.ts).
    const owner = String(launcherPid());
    writeSync(fd, owner);
    closeSync(fd);
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        try {
          if (readFileSync(file, "utf8") === owner) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      },
    };
  }
  throw new StartupError(`Could not take the lock ${file}: another runguard is starting on this data directory.`);
}
