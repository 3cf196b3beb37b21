// runguard's own key material kept in the data directory (the local CA's key, the IAP session key) exists on
// disk only sealed under the key-encryption key. A clear file left by an older runguard is sealed on first start
// and its bytes overwritten before it is removed.
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { basename } from "node:path";
import { StartupError } from "../core/errors.js";
import type { Envelope, Sealed } from "./envelope.js";

export interface SealedFileOptions {
  /** Makes the key on first start. */
  create(): Buffer | Promise<Buffer>;
  /** Where an older runguard kept this key in clear. */
  clearFile?: string | undefined;
}

/** Binds the ciphertext to the file's role, so one sealed key cannot be swapped for another. */
const associatedOf = (file: string) => `runguard:file:${basename(file)}`;

function writePrivately(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, "w", 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}

/** Overwrites a file's bytes with zeros before removing it, so a clear key is not left in its blocks' old copy. */
export function shredFile(file: string): void {
  const fd = openSync(file, "r+");
  try {
    writeSync(fd, Buffer.alloc(statSync(file).size));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  rmSync(file);
}

/** The key kept sealed in `file`, created (or sealed from its clear file) on first use. */
export async function openSealedFile(envelope: Envelope, file: string, options: SealedFileOptions): Promise<Buffer> {
  const associated = associatedOf(file);
  if (existsSync(file)) {
    try {
      return envelope.open(JSON.parse(readFileSync(file, "utf8")) as Sealed, associated);
    } catch {
      throw new StartupError(`${file} cannot be opened with this key-encryption key (or it is damaged).`);
    }
  }
  const clear = options.clearFile !== undefined && existsSync(options.clearFile) ? options.clearFile : undefined;
  const key = clear ? readFileSync(clear) : await options.create();
  writePrivately(file, JSON.stringify(envelope.seal(key, associated)));
  if (clear) shredFile(clear);
  return key;
}
