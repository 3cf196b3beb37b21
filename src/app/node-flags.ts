// The Node settings `runguard up` serves with, applied by runguard itself: V8 reads them only when the process
// starts, so `up` started without them runs itself again once, with them, and stays as its launcher (Node 20 has
// no exec). bin/runguard.js's #! line passes them, so a `runguard up` from a shell needs no second start. Why these: one V8 helper thread, because parallel garbage collection on four took the other core of a
// small machine while the front end was paused; semi-spaces of at most 4 MB, because scavenges of the 16 MB young
// generation V8 grows under load paused the front end for 0.6-1 ms instead of 0.1-0.3 ms (docs/benchmark.md).
import { spawn } from "node:child_process";

export const NODE_FLAGS: readonly string[] = ["--v8-pool-size=1", "--max-semi-space-size=4"];

/** Set in the relaunched process to the launcher's pid: it is relaunched at most once, and knows by whom. */
const LAUNCHER_ENV = "RUNGUARD_LAUNCHER_PID";

const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** True in the process a launcher started (a marker inherited from elsewhere names another parent). */
const isRelaunched = () => process.env[LAUNCHER_ENV] === String(process.ppid);

/** The pid of the process the user started: the launcher, when this process is the one it started. */
export const launcherPid = (): number => (isRelaunched() ? process.ppid : process.pid);

/** True if every setting of NODE_FLAGS was given to this process (with any value: the user's choice wins). */
function hasNodeFlags(): boolean {
  const given = new Set(process.execArgv.map((arg) => arg.split("=")[0]));
  return NODE_FLAGS.every((flag) => given.has(flag.split("=")[0]));
}

/**
 * Makes sure `up` serves with NODE_FLAGS. Resolves with undefined when this process is the one to serve, or,
 * when it launched one that does, with that process's exit code once it has exited (a death by signal is
 * passed on as the same signal).
 */
export async function serveWithNodeFlags(): Promise<number | undefined> {
  if (isRelaunched()) {
    // The launcher gone (even killed with SIGKILL) means this runguard is no longer anyone's: shut down cleanly.
    process.on("disconnect", () => process.kill(process.pid, "SIGTERM"));
    process.channel?.unref();
    return undefined;
  }
  if (hasNodeFlags()) return undefined;
  const child = spawn(process.execPath, [...NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], {
    // Its own process group, so that a terminal's Ctrl-C reaches it once, through the launcher, not twice.
    detached: true,
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    env: { ...process.env, [LAUNCHER_ENV]: String(process.pid) },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once("exit", (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
    child.once("error", (error) => {
      console.error(`ERROR: could not start runguard with its Node settings: ${error.message}`);
      resolve([1, null]);
    });
  });
  for (const s of FORWARDED_SIGNALS) process.off(s, forward);
  if (signal) process.kill(process.pid, signal);
  return code ?? 1;
}
