// runguard's RS256 signing keys, persisted in the store with the private key sealed under the key-encryption key
// (see secrets/envelope.ts), so the database alone reveals no key. The newest key signs; retired keys stay
// published (and accepted) until every token they signed has expired, so rotation never breaks a live token.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import type { Clock } from "../core/clock.js";
import type { Store } from "../store/store.js";
import type { Envelope, Sealed } from "../secrets/envelope.js";
import type { Jwk } from "./types.js";

export interface StoredSigningKey {
  kid: string;
  /** The private JWK (JSON), sealed with the signing key's name as associated data. */
  sealedPrivateJwk?: Sealed;
  /** How runguard before sealing kept the private key; sealed in place at start (sealClearSigningKeys). */
  privateJwk?: Record<string, unknown>;
  publicJwk: Record<string, unknown>;
  createdAtMs: number;
  retiredAtMs?: number;
}

export interface LoadedKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: Jwk;
  stored: StoredSigningKey;
}

export interface KeyRing {
  current(): Promise<LoadedKey>;
  /** Keys whose tokens may still be alive, current first. */
  published(): Promise<LoadedKey[]>;
  byKid(kid: string): Promise<LoadedKey | undefined>;
  rotate(): Promise<void>;
}

const keyName = (kid: string) => `signingKeys/${kid}`;

function sealPrivateJwk(envelope: Envelope, kid: string, privateJwk: Record<string, unknown>): Sealed {
  return envelope.seal(Buffer.from(JSON.stringify(privateJwk)), keyName(kid));
}

function newKey(nowMs: number, envelope: Envelope): StoredSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = randomBytes(20).toString("hex");
  return {
    kid,
    sealedPrivateJwk: sealPrivateJwk(envelope, kid, privateKey.export({ format: "jwk" }) as Record<string, unknown>),
    publicJwk: publicKey.export({ format: "jwk" }) as Record<string, unknown>,
    createdAtMs: nowMs,
  };
}

function privateJwkOf(stored: StoredSigningKey, envelope: Envelope): Record<string, unknown> {
  if (stored.sealedPrivateJwk)
    return JSON.parse(envelope.open(stored.sealedPrivateJwk, keyName(stored.kid)).toString()) as Record<
      string,
      unknown
    >;
  if (stored.privateJwk) return stored.privateJwk;
  throw new Error(`signing key ${stored.kid} has no private key`);
}

function load(stored: StoredSigningKey, envelope: Envelope): LoadedKey {
  const jwk = stored.publicJwk as { n: string; e: string };
  return {
    kid: stored.kid,
    privateKey: createPrivateKey({ key: privateJwkOf(stored, envelope) as never, format: "jwk" }),
    publicKey: createPublicKey({ key: stored.publicJwk as never, format: "jwk" }),
    publicJwk: { kty: "RSA", kid: stored.kid, alg: "RS256", use: "sig", n: jwk.n, e: jwk.e },
    stored,
  };
}

/** Seals the private keys an older runguard kept in clear; returns how many it sealed. */
export async function sealClearSigningKeys(store: Store, envelope: Envelope): Promise<number> {
  return store.transact(async (tx) => {
    let sealed = 0;
    for (const { privateJwk, ...key } of await tx.list<StoredSigningKey>("signingKey")) {
      if (!privateJwk) continue;
      tx.put("signingKey", keyName(key.kid), {
        ...key,
        sealedPrivateJwk: sealPrivateJwk(envelope, key.kid, privateJwk),
      });
      sealed++;
    }
    return sealed;
  });
}

export function createKeyRing(store: Store, clock: Clock, maxTokenLifetimeMs: number, envelope: Envelope): KeyRing {
  let cache: Map<string, LoadedKey> | undefined;
  store.onChange((change) => {
    if (change.kind === "signingKey" || change.kind === "*") cache = undefined;
  });
  const all = async (): Promise<Map<string, LoadedKey>> => {
    if (cache) return cache;
    let stored = await store.list<StoredSigningKey>("signingKey");
    if (!stored.some((k) => k.retiredAtMs === undefined)) {
      await store.transact(async (tx) => {
        const again = await tx.list<StoredSigningKey>("signingKey");
        if (again.some((k) => k.retiredAtMs === undefined)) return;
        const key = newKey(clock.now(), envelope);
        tx.put("signingKey", keyName(key.kid), key);
      });
      stored = await store.list<StoredSigningKey>("signingKey");
    }
    const loaded = new Map(stored.sort((a, b) => b.createdAtMs - a.createdAtMs).map((k) => [k.kid, load(k, envelope)]));
    cache = loaded;
    return loaded;
  };
  const alive = (key: LoadedKey) =>
    key.stored.retiredAtMs === undefined || key.stored.retiredAtMs + maxTokenLifetimeMs > clock.now();
  return {
    async current() {
      const keys = [...(await all()).values()];
      const current = keys.find((k) => k.stored.retiredAtMs === undefined);
      if (!current) throw new Error("no current signing key");
      return current;
    },
    async published() {
      return [...(await all()).values()].filter(alive);
    },
    async byKid(kid) {
      const key = (await all()).get(kid);
      return key && alive(key) ? key : undefined;
    },
    async rotate() {
      await store.transact(async (tx) => {
        for (const key of await tx.list<StoredSigningKey>("signingKey")) {
          if (key.retiredAtMs === undefined)
            tx.put("signingKey", keyName(key.kid), { ...key, retiredAtMs: clock.now() });
          else if (key.retiredAtMs + maxTokenLifetimeMs <= clock.now()) tx.delete("signingKey", keyName(key.kid));
        }
        const fresh = newKey(clock.now(), envelope);
        tx.put("signingKey", keyName(fresh.kid), fresh);
      });
      cache = undefined;
    },
  };
}
