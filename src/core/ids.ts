import { randomBytes, randomInt } from "node:crypto";

/** A 21-digit numeric id, like the uniqueId of a Google service account or user. */
export function numericId(): string {
  let id = String(randomInt(1, 10));
  while (id.length < 21) id += String(randomInt(0, 10));
  return id;
}

/**
 * An IAM policy etag: 8 random bytes, base64. Only canonical values without '+' or '/' are issued because
 * gcloud re-encodes bytes fields URL-safe when it echoes them back.
 */
export function policyEtag(): string {
  for (;;) {
    const value = randomBytes(8).toString("base64");
    if (!value.includes("+") && !value.includes("/")) return value;
  }
}

/** Decode a base64 etag in either alphabet so that gcloud's URL-safe echo compares equal. */
export function etagBytes(etag: string): string {
  return Buffer.from(etag.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("hex");
}

export function hexId(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

export function lowerAlnum(length: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(0, alphabet.length)];
  return out;
}

/**
 * Random hex from a pooled buffer: hot paths (trace ids, log insert ids) need unpredictable-enough ids
 * without a crypto call per request.
 */
export function createHexPool(poolBytes = 64 * 1024): (bytes: number) => string {
  let pool = randomBytes(poolBytes);
  let offset = 0;
  return (bytes) => {
    if (offset + bytes > pool.length) {
      pool = randomBytes(poolBytes);
      offset = 0;
    }
    const out = pool.toString("hex", offset, offset + bytes);
    offset += bytes;
    return out;
  };
}
