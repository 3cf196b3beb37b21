// `runguard exec` as CI runs it: the real bin in a child process, without a terminal.
import { spawn, type ChildProcess } from "node:child_process";
import { bin } from "./up-process.js";

export interface ExecProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The exit code, or the signal that ended runguard exec itself. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once CMD has printed `text` on stdout. */
  printed(text: string, timeoutMs?: number): Promise<void>;
}

export function spawnExec(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): ExecProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async printed(text, timeoutMs = 60_000) {
      const started = Date.now();
      while (!out.includes(text)) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`runguard exec exited (${child.exitCode}): ${out}${err}`);
        if (Date.now() - started > timeoutMs) throw new Error(`no '${text}' from runguard exec: ${out}${err}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

/** Runs `runguard exec …` to the end. */
export async function runExec(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const exec = spawnExec(args, options);
  const { code } = await exec.exited;
  return { code, stdout: exec.stdout(), stderr: exec.stderr() };
}
