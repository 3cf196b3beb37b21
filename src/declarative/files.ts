// Reading the files a state is made of: bounded in size, and every problem named by its file.
import { constants } from "node:fs";
import { open, readFile, realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { parseDocument } from "yaml";
import { invalidArgument } from "../core/errors.js";
import { parseStateFile, type DeclaredPolicy } from "./schema.js";

/** The state file `runguard up` and `runguard apply` look for when given a directory or nothing. */
export const STATE_FILE_NAME = "runguard.yaml";

/** Files larger than this are not state: refusing them keeps a wrong path from filling memory. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

export async function readText(path: string): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw invalidArgument(`${path}: no such file.`);
  if (info.size > MAX_FILE_BYTES) throw invalidArgument(`${path}: larger than 16 MB, not a state file.`);
  return readFile(path, "utf8");
}

/** Secret Manager's limit on a secret version's payload: a larger valueFile could never be a secret's value. */
export const MAX_SECRET_VALUE_BYTES = 65_536;

/**
 * The file a state names (`file:`, `iamPolicyFile:`, `valueFile:`), `named` relative to the state's directory
 * `base`. It must be a regular file inside `base` once symlinks are resolved: a runguard.yaml in a directory someone
 * handed you (import DIR, or ./runguard.yaml at up) must not copy ~/.ssh keys or /proc/self/environ into a secret,
 * nor read /dev/zero. Returns the resolved path, so what is read later is what was checked.
 */
export async function containedFile(base: string, named: string, where: string): Promise<string> {
  const path = resolve(base, named);
  const real = await realpath(path).catch(() => undefined);
  if (real === undefined) throw invalidArgument(`${where}: ${path} does not exist.`);
  const root = await realpath(base).catch(() => resolve(base));
  const inside = relative(root, real);
  if (inside === "" || inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside))
    throw invalidArgument(
      `${where}: ${named} resolves to ${real}, outside ${root}: a state file may only name files in its own directory (symlinks resolved).`,
    );
  const info = await stat(real);
  if (!info.isFile()) throw invalidArgument(`${where}: ${path} is not a regular file.`);
  return real;
}

/**
 * A secret's value file, read with a bound: a regular file of at most MAX_SECRET_VALUE_BYTES (checked on the
 * open file, and by reading one byte past the limit, since /proc files say they are empty).
 */
export async function readSecretValueFile(path: string, where: string): Promise<Buffer> {
  // O_NONBLOCK: opening a FIFO must not hang apply; a regular file reads the same either way.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => {
    throw invalidArgument(`${where}: ${path} cannot be read.`);
  });
  try {
    if (!(await handle.stat()).isFile()) throw invalidArgument(`${where}: ${path} is not a regular file.`);
    const buffer = Buffer.alloc(MAX_SECRET_VALUE_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_SECRET_VALUE_BYTES)
        throw invalidArgument(
          `${where}: ${path} is larger than ${MAX_SECRET_VALUE_BYTES.toLocaleString("en-US")} bytes, Secret Manager's limit for a secret value.`,
        );
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

export function parseYaml(text: string, source: string): unknown {
  const document = parseDocument(text);
  const error = document.errors[0];
  if (error)
    throw invalidArgument(`${source}: not valid YAML: ${(error.message.split("\n")[0] ?? "").replace(/:$/, "")}`);
  return document.toJSON() as unknown;
}

export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidArgument(`${source}: not valid JSON.`);
  }
}

/** An IAM policy as get-iam-policy --format=json prints it, checked like a state file's `iamPolicy`. */
export function parsePolicyJson(text: string, source: string): DeclaredPolicy {
  const value = parseJson(text, source);
  const bindings = (value as { bindings?: unknown } | null)?.bindings ?? [];
  if (typeof value !== "object" || value === null || !Array.isArray(bindings))
    throw invalidArgument(`${source}: not an IAM policy (get-iam-policy --format=json prints {"bindings": [...]}).`);
  const parsed = parseStateFile({ iam: { bindings } }, source);
  return { bindings: parsed.iam?.bindings ?? [] };
}
