// Envelope encryption of secret payloads: each version gets its own AES-256-GCM data key, itself encrypted
// ("wrapped") with the key-encryption key, which never enters the database. The KEK comes from
// RUNGUARD_SECRETS_KEK (base64, 32 bytes) or a 0600 file created on first start. The database alone reveals no
// secret.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface Sealed {
  /** The data key, encrypted with the KEK: iv.tag.ciphertext, base64. */
  wrappedKey: string;
  /** The payload, encrypted with the data key: iv.tag.ciphertext, base64. */
  ciphertext: string;
}

export interface Envelope {
  seal(plaintext: Buffer, associated: string): Sealed;
  open(sealed: Sealed, associated: string): Buffer;
}

function encrypt(key: Buffer, plaintext: Buffer, associated: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(associated));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString("base64")).join(".");
}

function decrypt(key: Buffer, sealed: string, associated: string): Buffer {
  const [iv, tag, body] = sealed.split(".").map((part) => Buffer.from(part, "base64"));
  if (!iv || !tag || !body) throw new Error("corrupt sealed value");
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAAD(Buffer.from(associated));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}

export function loadKeyEncryptionKey(file: string, fromEnv = process.env["RUNGUARD_SECRETS_KEK"]): Buffer {
  if (fromEnv) {
    const key = Buffer.from(fromEnv, "base64");
    if (key.length !== 32) throw new Error("RUNGUARD_SECRETS_KEK must be 32 bytes, base64-encoded");
    return key;
  }
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString("base64"), { mode: 0o600, flag: "wx" });
  }
  chmodSync(file, 0o600);
  return Buffer.from(readFileSync(file, "utf8"), "base64");
}

/** `associated` binds a ciphertext to its version's name, so a sealed payload cannot be moved to another version. */
export function createEnvelope(kek: Buffer): Envelope {
  return {
    seal(plaintext, associated) {
      const dataKey = randomBytes(32);
      return { wrappedKey: encrypt(kek, dataKey, associated), ciphertext: encrypt(dataKey, plaintext, associated) };
    },
    open(sealed, associated) {
      const dataKey = decrypt(kek, sealed.wrappedKey, associated);
      return decrypt(dataKey, sealed.ciphertext, associated);
    },
  };
}
