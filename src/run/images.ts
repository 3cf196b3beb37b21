// The local image catalogue: an image reference maps to a directory and a command, so that
// `gcloud run deploy --image=REF` works unchanged. Google's sample image runs a built-in equivalent.
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { invalidArgument } from "../core/errors.js";
import type { Store } from "../store/store.js";

export interface ImageEntry {
  ref: string;
  dir: string;
  command: string[];
  /** For apps that ignore $PORT and always listen on this port (the seed's Flask app: 8080). */
  fixedPort?: number;
  builtin?: boolean;
}

export const HELLO_IMAGE = "us-docker.pkg.dev/cloudrun/container/hello";

export function builtinImages(): ImageEntry[] {
  const dir = fileURLToPath(new URL("../../../images/hello/", import.meta.url));
  return [{ ref: HELLO_IMAGE, dir, command: [process.execPath, "server.mjs"], builtin: true }];
}

/** `REF`, `REF:latest` and `REF@sha256:…` name the same catalogue entry. */
export function normalizeImageRef(ref: string): string {
  const withoutDigest = ref.split("@")[0] ?? ref;
  return withoutDigest.replace(/:latest$/, "");
}

export const imageDocName = (ref: string) => `images/${normalizeImageRef(ref)}`;

export async function findImage(store: Store, ref: string): Promise<ImageEntry | undefined> {
  const normalized = normalizeImageRef(ref);
  const builtin = builtinImages().find((image) => image.ref === normalized);
  return builtin ?? (await store.get<ImageEntry>("image", imageDocName(normalized)));
}

export async function addImage(
  store: Store,
  ref: string,
  dir: string,
  command: string[],
  fixedPort?: number,
): Promise<ImageEntry> {
  if (!/^[a-z0-9][a-z0-9._\-/:]*$/i.test(ref)) throw invalidArgument(`Invalid image reference '${ref}'.`);
  if (command.length === 0) throw invalidArgument("An image needs a command to run.");
  if (fixedPort !== undefined && (!Number.isInteger(fixedPort) || fixedPort < 1 || fixedPort > 65535)) {
    throw invalidArgument(`Invalid port ${fixedPort}.`);
  }
  const entry: ImageEntry = { ref: normalizeImageRef(ref), dir, command, ...(fixedPort ? { fixedPort } : {}) };
  await store.transact(async (tx) => tx.put("image", imageDocName(ref), entry));
  return entry;
}

export async function listImages(store: Store): Promise<ImageEntry[]> {
  return [...builtinImages(), ...(await store.list<ImageEntry>("image"))];
}

/** A stable content digest so that gcloud can pin a revision's image as REF@sha256:…, as on Cloud Run. */
export function imageDigest(entry: ImageEntry): string {
  const digest = createHash("sha256")
    .update(JSON.stringify([entry.dir, entry.command]))
    .digest("hex");
  return `${entry.ref}@sha256:${digest}`;
}
