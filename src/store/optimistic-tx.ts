// Optimistic transactions shared by every backend: a transaction reads committed state (overlaid with its own
// buffered writes), records the version of everything it read, and commits only if none of it changed
// meanwhile; otherwise the function runs again. A PostgreSQL backend would commit the same way, checking the
// recorded versions with SELECT ... FOR UPDATE inside one SQL transaction.
import { aborted } from "../core/errors.js";
import type { Change, Kind, TxView } from "./store.js";

export interface VersionedDoc {
  name: string;
  value: unknown;
  version: number;
}

/** What a backend provides: committed reads with versions, and an atomic check-and-write. */
export interface TxBackend {
  read(kind: Kind, name: string): VersionedDoc | undefined;
  readPrefix(kind: Kind, prefix: string): VersionedDoc[];
  /** Atomically: if every check still holds, apply the writes and return true; else write nothing, return false. */
  commit(checks: ReadCheck[], writes: PendingWrite[]): boolean;
}

export type ReadCheck =
  | { type: "doc"; kind: Kind; name: string; version: number | undefined }
  | { type: "prefix"; kind: Kind; prefix: string; fingerprint: string };

export interface PendingWrite {
  kind: Kind;
  name: string;
  /** JSON text, or undefined to delete. */
  json: string | undefined;
}

const key = (kind: Kind, name: string) => `${kind}\u0000${name}`;

export function prefixFingerprint(docs: readonly VersionedDoc[]): string {
  return docs.map((d) => `${d.name}@${d.version}`).join("\n");
}

const MAX_ATTEMPTS = 5;

export async function runOptimistic<R>(
  backend: TxBackend,
  fn: (tx: TxView) => Promise<R>,
  notify: (changes: Change[]) => void,
): Promise<R> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const checks: ReadCheck[] = [];
    const writes = new Map<string, PendingWrite & { value: unknown }>();
    const tx: TxView = {
      async get<T>(kind: Kind, name: string) {
        const pending = writes.get(key(kind, name));
        if (pending) return (pending.json === undefined ? undefined : structuredClone(pending.value)) as T | undefined;
        const doc = backend.read(kind, name);
        checks.push({ type: "doc", kind, name, version: doc?.version });
        return doc?.value as T | undefined;
      },
      async list<T>(kind: Kind, prefix = "") {
        const docs = backend.readPrefix(kind, prefix);
        checks.push({ type: "prefix", kind, prefix, fingerprint: prefixFingerprint(docs) });
        const merged = new Map(docs.map((d) => [d.name, d.value]));
        for (const w of writes.values()) {
          if (w.kind !== kind || !w.name.startsWith(prefix)) continue;
          if (w.json === undefined) merged.delete(w.name);
          else merged.set(w.name, structuredClone(w.value));
        }
        return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v as T);
      },
      put(kind, name, value) {
        if (value === undefined) throw new TypeError("a stored value cannot be undefined");
        writes.set(key(kind, name), { kind, name, json: JSON.stringify(value), value: structuredClone(value) });
      },
      delete(kind, name) {
        writes.set(key(kind, name), { kind, name, json: undefined, value: undefined });
      },
    };
    const result = await fn(tx);
    const pending = [...writes.values()];
    if (backend.commit(checks, pending)) {
      notify(
        pending.map((w) => ({
          kind: w.kind,
          name: w.name,
          value: w.json === undefined ? undefined : JSON.parse(w.json),
        })),
      );
      return result;
    }
  }
  throw aborted("The operation was aborted because of concurrent changes; please retry.");
}
