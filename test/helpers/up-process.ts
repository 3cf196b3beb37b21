// `runguard up` as a user runs it: the real bin in a child process, on free ports unless told otherwise.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const bin = fileURLToPath(new URL("../../../bin/runguard.js", import.meta.url));

/** `up`'s options for free ports on every listener. */
export const FREE_PORTS = ["--port", "0", "--front-end-port", "0", "--lb-port", "0", "--lb-https-port", "0"];

export interface UpProcess {
  child: ChildProcess;
  /** Everything printed so far on stdout and stderr. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (signal as a negative number is not needed: null stays null). */
  exited: Promise<number | null>;
  /** SIGINT (a clean shutdown), then waits for the exit. */
  stop(): Promise<number | null>;
}

/** Starts `runguard [globalArgs] up [upArgs]`; options later in upArgs win over the free ports given first. */
export function spawnUp(
  dataDir: string,
  upArgs: string[] = [],
  options: { env?: Record<string, string>; globalArgs?: string[] } = {},
): UpProcess {
  const child = spawn(
    process.execPath,
    [bin, "--data-dir", dataDir, ...(options.globalArgs ?? []), "up", ...FREE_PORTS, ...upArgs],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
    },
  );
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
      return exited;
    },
  };
}

/** Waits until `up` has printed its endpoints; rejects with its output if it exits first or takes too long. */
export async function whenUp(up: UpProcess, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!up.stdout().includes("point gcloud:")) {
    if (up.child.exitCode !== null || up.child.signalCode !== null)
      throw new Error(`runguard up exited (${up.child.exitCode}): ${up.stdout()}${up.stderr()}`);
    if (Date.now() - started > timeoutMs) throw new Error(`runguard up did not start: ${up.stdout()}${up.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
