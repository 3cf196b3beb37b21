// Reading the files a state is made of: bounded in size, and every problem named by its file.
import { readFile, stat } from "node:fs/promises";
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
