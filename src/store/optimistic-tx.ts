// Optimistic transactions shared by every backend. A transaction reads committed state overlaid with its own
// buffered writes and records what it saw (a document's version, or absence; for a list, the names and versions
// under the prefix). When the function resolves, the backend re-checks all of it and applies the writes in one
// atomic step, or reports a conflict and the function runs again from scratch.
//
// A PostgreSQL backend would implement TxBackend the same way: reads outside any transaction (committed state),
// and commit() as one SQL transaction that either
//   - locks and checks each recorded document with `SELECT version ... FOR UPDATE` (absent ones via
//     `INSERT ... ON CONFLICT DO NOTHING` on a placeholder, or a per-kind `pg_advisory_xact_lock`), or
//   - writes with version-checked statements, `UPDATE documents SET ... WHERE kind=$1 AND name=$2 AND
//     version=$3`, rolling back when a row count is 0,
// while list checks, which row locks cannot protect from phantom inserts, are re-read under a per-kind advisory
// lock or the whole commit runs at SERIALIZABLE with SQLSTATE 40001 treated as a conflict. Versions come from a
// sequence, and NOTIFY in the same transaction carries the change feed to other processes.
import { aborted } from "../core/errors.js";
import type { Change, Kind, TxView } from "./store.js";

export interface VersionedDoc {
  name: string;
  value: unknown;
  /** Increases on every write and is never reused, even after delete and re-create (no ABA). */
  version: number;
}

/** What a backend provides: committed reads with versions, and an atomic check-and-write. */
export interface TxBackend {
  read(kind: Kind, name: string): VersionedDoc | undefined;
  /** Documents whose name starts with prefix, ordered by compareNames. */
  readPrefix(kind: Kind, prefix: string): VersionedDoc[];
  /** Atomically: if every check still holds, apply the writes and return true; else write nothing, return false. */
  commit(checks: readonly ReadCheck[], writes: readonly PendingWrite[]): boolean;
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

export const MAX_ATTEMPTS = 5;

/**
 * Serializes a value to store. Runs when put() is called, so a value JSON cannot represent fails the
 * transaction function before anything is written.
 */
export function toJson(value: unknown): string {
  if (value === undefined) throw new TypeError("A stored value cannot be undefined; use delete().");
  const json = JSON.stringify(value);
  // JSON.stringify returns undefined (instead of throwing) for functions and symbols; storing that would
  // silently turn the put into a delete.
  if (json === undefined) throw new TypeError(`A stored value must be JSON, not a ${typeof value}.`);
  return json;
}

/**
 * Orders names by code point, which is how SQLite's BINARY collation orders UTF-8; JavaScript's `<` compares
 * UTF-16 units and disagrees for characters above U+FFFF.
 */
export function compareNames(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/**
 * The smallest string greater than every string starting with prefix (undefined if there is none), so a
 * prefix query is the index range scan `name >= prefix AND name < bound`; LIKE would treat the `%` and `_`
 * found in Google names (e.g. `%2F` in log names) as wildcards.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const codePoints = [...prefix];
  while (codePoints.length > 0) {
    let next = (codePoints.pop()?.codePointAt(0) ?? 0) + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    if (next <= 0x10ffff) return codePoints.join("") + String.fromCodePoint(next);
  }
  return undefined;
}

export function prefixFingerprint(docs: readonly VersionedDoc[]): string {
  return docs.map((d) => `${d.version} ${d.name}`).join("\n");
}

const keyOf = (kind: Kind, name: string) => `${kind}\u0000${name}`;

interface Attempt {
  view: TxView;
  checks: ReadCheck[];
  writes: Map<string, PendingWrite>;
  finish(): void;
}

function startAttempt(backend: TxBackend): Attempt {
  const checks: ReadCheck[] = [];
  const writes = new Map<string, PendingWrite>();
  let finished = false;
  // A view kept past its transaction (e.g. a forgotten await) would otherwise write into nothing, silently.
  const assertActive = () => {
    if (finished) throw new Error("This transaction has already finished; use the TxView only inside transact().");
  };
  // Reads of buffered writes parse the JSON again, so they see exactly what will be committed and callers
  // cannot mutate the buffer through the returned object.
  const parse = (write: PendingWrite) => (write.json === undefined ? undefined : JSON.parse(write.json));
  const view: TxView = {
    async get<T>(kind: Kind, name: string) {
      assertActive();
      const pending = writes.get(keyOf(kind, name));
      if (pending) return parse(pending) as T | undefined;
      const doc = backend.read(kind, name);
      checks.push({ type: "doc", kind, name, version: doc?.version });
      return doc?.value as T | undefined;
    },
    async list<T>(kind: Kind, prefix = "") {
      assertActive();
      const docs = backend.readPrefix(kind, prefix);
      checks.push({ type: "prefix", kind, prefix, fingerprint: prefixFingerprint(docs) });
      const merged = new Map<string, unknown>(docs.map((d) => [d.name, d.value]));
      for (const write of writes.values()) {
        if (write.kind !== kind || !write.name.startsWith(prefix)) continue;
        if (write.json === undefined) merged.delete(write.name);
        else merged.set(write.name, parse(write));
      }
      return [...merged.entries()].sort(([a], [b]) => compareNames(a, b)).map(([, value]) => value as T);
    },
    put(kind, name, value) {
      assertActive();
      writes.set(keyOf(kind, name), { kind, name, json: toJson(value) });
    },
    delete(kind, name) {
      assertActive();
      writes.set(keyOf(kind, name), { kind, name, json: undefined });
    },
  };
  return { view, checks, writes, finish: () => (finished = true) };
}

/**
 * Runs fn until its reads are still valid at commit, up to MAX_ATTEMPTS times. Node runs one callback at a
 * time, so other transactions can only interleave at fn's awaits, and the check-and-write itself is synchronous.
 */
export async function runOptimistic<R>(
  backend: TxBackend,
  fn: (tx: TxView) => Promise<R>,
  notify: (changes: Change[]) => void,
): Promise<R> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const { view, checks, writes, finish } = startAttempt(backend);
    let result: R;
    try {
      result = await fn(view);
    } finally {
      finish();
    }
    const pending = [...writes.values()];
    if (backend.commit(checks, pending)) {
      if (pending.length > 0) {
        notify(
          pending.map((w) => ({
            kind: w.kind,
            name: w.name,
            value: w.json === undefined ? undefined : JSON.parse(w.json),
          })),
        );
      }
      return result;
    }
  }
  throw aborted(`The transaction was aborted after ${MAX_ATTEMPTS} attempts because of concurrent changes; retry.`);
}

/** Calls every listener for every change in order; one listener's failure must not reach the committer or the others. */
export function notifyAll(listeners: ReadonlySet<(change: Change) => void>, changes: readonly Change[]): void {
  // A snapshot: listeners that subscribe while being notified start with the next commit; those that
  // unsubscribe stop at once.
  const current = [...listeners];
  for (const change of changes) {
    for (const listener of current) {
      if (!listeners.has(listener)) continue;
      try {
        listener(change);
      } catch {
        // Deliberately swallowed: the commit has happened and the feed must go on.
      }
    }
  }
}
