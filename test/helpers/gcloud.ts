// Runs the real gcloud CLI (/usr/bin/gcloud) with a given environment: no shell, bounded time.
import { spawn } from "node:child_process";

export interface GcloudResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment gcloud sees: only what it needs, so the developer's own settings never leak in. */
function baseEnv(): Record<string, string> {
  const keep = ["PATH", "HOME", "LANG", "TERM", "TMPDIR"];
  return Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k] as string]] : [])));
}

export function gcloud(
  env: Record<string, string>,
  args: string[],
  options: { stdin?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<GcloudResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("gcloud", args, {
      env: { ...baseEnv(), ...env },
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 90_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    // gcloud colours names on some terminals; tests compare plain text.
    // eslint-disable-next-line no-control-regex -- ANSI escapes are control characters by definition
    const plain = (text: string) => text.replace(/\x1B\[[0-9;]*m/g, "");
    child.on("close", (code) => resolve({ code, stdout: plain(stdout), stderr: plain(stderr) }));
    child.stdin.end(options.stdin ?? "");
  });
}
