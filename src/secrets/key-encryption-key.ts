// Where the key-encryption key (KEK) comes from. Supplied from outside the data directory (a file with
// --kek-file / RUNGUARD_KEK_FILE, or base64 in RUNGUARD_KEK), nothing that could open the data directory's keys
// is written into it, so a copy of the directory alone reveals no key. Without one, a KEK is created on first
// start in DATA_DIR/keys/secrets.kek (0600), as before. Either way DATA_DIR/keys/kek-check holds a value sealed
// under the KEK, so a later start with another KEK, or with none, is refused before anything is read with it.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StartupError } from "../core/errors.js";
import { createEnvelope, type Sealed } from "./envelope.js";

export const KEK_BYTES = 32;
const CHECK_PLAINTEXT = "runguard key-encryption key check";
const CHECK_ASSOCIATED = "runguard:kek-check";

/** A KEK supplied from outside the data directory (at most one of the two). */
export interface KekSource {
  file?: string | undefined;
  base64?: string | undefined;
}

/** --kek-file (or RUNGUARD_KEK_FILE) and RUNGUARD_KEK; RUNGUARD_SECRETS_KEK is RUNGUARD_KEK's older name. */
export function kekSourceOf(kekFile: string | undefined, env: NodeJS.ProcessEnv = process.env): KekSource {
  return {
    file: kekFile ?? (env["RUNGUARD_KEK_FILE"] || undefined),
    base64: env["RUNGUARD_KEK"] || env["RUNGUARD_SECRETS_KEK"] || undefined,
  };
}

const isSupplied = (source: KekSource) => source.file !== undefined || source.base64 !== undefined;

function decodeKek(text: string, from: string): Buffer {
  const key = Buffer.from(text.trim(), "base64");
  if (key.length !== KEK_BYTES)
    throw new StartupError(
      `${from} must hold ${KEK_BYTES} random bytes, base64-encoded (make one with: head -c 32 /dev/urandom | base64).`,
    );
  return key;
}

function readSupplied(source: KekSource): Buffer {
  if (source.file !== undefined && source.base64 !== undefined)
    throw new StartupError("Both a KEK file (--kek-file or RUNGUARD_KEK_FILE) and RUNGUARD_KEK are set: supply one.");
  if (source.base64 !== undefined) return decodeKek(source.base64, "RUNGUARD_KEK");
  const file = source.file as string;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new StartupError(`Cannot read the KEK file ${file}: ${(error as NodeJS.ErrnoException).code ?? error}.`);
  }
  return decodeKek(text, `The KEK file ${file}`);
}

/** The data directory's own KEK file (used when no KEK is supplied). */
export const localKekFile = (dataDir: string) => join(dataDir, "keys", "secrets.kek");
const checkFile = (dataDir: string) => join(dataDir, "keys", "kek-check");

function opensCheck(kek: Buffer, file: string): boolean {
  try {
    const sealed = JSON.parse(readFileSync(file, "utf8")) as Sealed;
    return createEnvelope(kek).open(sealed, CHECK_ASSOCIATED).toString() === CHECK_PLAINTEXT;
  } catch {
    return false;
  }
}

/** The KEK for this data directory, checked against the directory's kek-check; a StartupError says what is wrong. */
export function loadKeyEncryptionKey(dataDir: string, source: KekSource): Buffer {
  const keysDir = join(dataDir, "keys");
  const local = localKekFile(dataDir);
  const check = checkFile(dataDir);
  const supplied = isSupplied(source);
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  let kek: Buffer;
  if (supplied) kek = readSupplied(source);
  else if (existsSync(local)) {
    chmodSync(local, 0o600);
    kek = decodeKek(readFileSync(local, "utf8"), local);
  } else if (existsSync(check))
    throw new StartupError(
      `The keys in ${dataDir} are encrypted with a key-encryption key kept outside it: supply it with --kek-file PATH, RUNGUARD_KEK_FILE or RUNGUARD_KEK.`,
    );
  else {
    kek = randomBytes(KEK_BYTES);
    writeFileSync(local, kek.toString("base64"), { mode: 0o600, flag: "wx" });
  }
  if (existsSync(check)) {
    if (!opensCheck(kek, check))
      throw new StartupError(
        `The key-encryption key ${supplied ? "supplied" : `in ${local}`} is not the one the keys in ${dataDir} are encrypted with: start with the KEK this data directory was created with.`,
      );
  } else {
    // A data directory from before kek-check: a supplied KEK must be the one its secrets were sealed with.
    if (supplied && existsSync(local) && !decodeKek(readFileSync(local, "utf8"), local).equals(kek))
      throw new StartupError(
        `${local} holds another key-encryption key than the one supplied: move that file out of the data directory and supply it (--kek-file).`,
      );
    const sealed = createEnvelope(kek).seal(Buffer.from(CHECK_PLAINTEXT), CHECK_ASSOCIATED);
    writeFileSync(check, JSON.stringify(sealed), { mode: 0o600 });
  }
  return kek;
}
