// Envelope encryption of secret payloads and of runguard's own key material: each sealed value gets its own
// AES-256-GCM data key, itself encrypted ("wrapped") with the key-encryption key, which never enters the database
// (see key-encryption-key.ts for where it comes from). The database alone reveals no secret and no key.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

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
