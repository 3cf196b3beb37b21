// A spare launcher, started ahead of need: Node's start (about 90 ms here) is most of runguard's own share of a
// cold start, so one launcher is kept started, through the same `unshare` command line in fresh namespaces,
// idle until an instance claims it by sending its configuration (runtime/netns-launcher.ts). Until then it
// runs nothing of any app: it has no configuration, so it knows of none. Claiming it starts the next spare.
import { spawn, type ChildProcess } from "node:child_process";

export interface LauncherSource {
  /**
   * A launcher started with this command line and environment, waiting for its configuration on its IPC
   * channel: the spare when its command line matches, otherwise one started now (as without a spare).
   */
  take(command: string[], env: Record<string, string>): ChildProcess;
}

export interface WarmLauncher extends LauncherSource {
  /** Stops the spare. */
  close(): Promise<void>;
}

/** Starts a launcher in its own process group (stopping the instance stops the group), with an IPC channel. */
export function spawnLauncher(command: string[], env: Record<string, string>): ChildProcess {
  const [file = "unshare", ...args] = command;
  // The launcher sets every directory it uses itself (the app's cwd comes with the configuration).
  return spawn(file, args, { cwd: "/", env, detached: true, stdio: ["ignore", "pipe", "pipe", "ipc"] });
}

/** No spare: every launcher started when its instance starts. */
export const coldLauncher: LauncherSource = { take: spawnLauncher };

interface Spare {
  key: string;
  child: ChildProcess;
  discard: () => void;
}

const keyOf = (command: string[], env: Record<string, string>) => JSON.stringify([command, env]);

function alive(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null && child.connected;
}

/**
 * Keeps at most one spare, with the command line of the last launcher taken (one runguard's instances share
 * their isolation, so it nearly always matches). A spare that died is not restarted then: the next `take`
 * starts a launcher as without a spare and a new spare beside it, so a spare that cannot start costs one
 * extra process per instance start, never a loop.
 */
export function createWarmLauncher(): WarmLauncher {
  let spare: Spare | undefined;
  let closed = false;

  function startSpare(command: string[], env: Record<string, string>): void {
    const child = spawnLauncher(command, env);
    // A spare that failed to start or died is only dropped: `take` replaces it on demand.
    child.on("error", () => undefined);
    const discard = () => undefined;
    // Nothing the spare might print before its claim belongs to an instance: read and dropped.
    child.stdout?.on("data", discard);
    child.stderr?.on("data", discard);
    // An idle spare must not keep runguard's event loop alive; a claimed launcher does, as any instance.
    child.unref();
    child.channel?.unref();
    const entry: Spare = { key: keyOf(command, env), child, discard };
    child.once("exit", () => {
      if (spare === entry) spare = undefined;
    });
    spare = entry;
  }

  function stopSpare(): ChildProcess | undefined {
    const child = spare?.child;
    spare = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return undefined;
    child.ref(); // so that `close` can wait for its exit
    // Its IPC channel closing ends it too (the launcher exits on 'disconnect'); the kill makes it certain.
    child.disconnect?.();
    if (child.pid !== undefined)
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    return child;
  }

  return {
    take(command, env) {
      const key = keyOf(command, env);
      const claimed = spare?.key === key && spare.child && alive(spare.child) ? spare : undefined;
      if (claimed) {
        spare = undefined;
        claimed.child.stdout?.off("data", claimed.discard);
        claimed.child.stderr?.off("data", claimed.discard);
        claimed.child.ref();
        claimed.child.channel?.ref();
      } else stopSpare();
      const child = claimed?.child ?? spawnLauncher(command, env);
      if (!closed) startSpare(command, env);
      return child;
    },
    async close() {
      closed = true;
      const child = stopSpare();
      if (child) await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}
