// An in-memory Store with the same transaction semantics, for unit tests of other modules; it also shows the
// contract is backend-neutral.
import { runOptimistic, prefixFingerprint, type TxBackend, type VersionedDoc } from "./optimistic-tx.js";
import type { Change, Kind, LogEntryRecord, Store } from "./store.js";

export function createMemoryStore(): Store {
  const docs = new Map<string, Map<string, VersionedDoc>>();
  const logs: LogEntryRecord[] = [];
  const listeners = new Set<(change: Change) => void>();
  const table = (kind: Kind) => {
    let t = docs.get(kind);
    if (!t) docs.set(kind, (t = new Map()));
    return t;
  };
  const clone = (doc: VersionedDoc): VersionedDoc => ({ ...doc, value: structuredClone(doc.value) });
  const backend: TxBackend = {
    read: (kind, name) => {
      const doc = table(kind).get(name);
      return doc ? clone(doc) : undefined;
    },
    readPrefix: (kind, prefix) =>
      [...table(kind).values()]
        .filter((d) => d.name.startsWith(prefix))
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map(clone),
    commit(checks, writes) {
      const holds = checks.every((c) =>
        c.type === "doc"
          ? table(c.kind).get(c.name)?.version === c.version
          : prefixFingerprint(backend.readPrefix(c.kind, c.prefix)) === c.fingerprint,
      );
      if (!holds) return false;
      for (const w of writes) {
        const t = table(w.kind);
        if (w.json === undefined) t.delete(w.name);
        else t.set(w.name, { name: w.name, value: JSON.parse(w.json), version: (t.get(w.name)?.version ?? 0) + 1 });
      }
      return true;
    },
  };
  const notify = (changes: Change[]) => {
    for (const change of changes)
      for (const l of listeners) {
        try {
          l(change);
        } catch {
          // see sqlite-store: listeners cannot break commits
        }
      }
  };
  return {
    get: async <T>(kind: Kind, name: string) => backend.read(kind, name)?.value as T | undefined,
    list: async <T>(kind: Kind, prefix = "") => backend.readPrefix(kind, prefix).map((d) => d.value as T),
    transact: (fn) => runOptimistic(backend, fn, notify),
    appendLog: async (record) => void logs.push(structuredClone(record)),
    appendLogs: async (records) => void logs.push(...records.map((r) => structuredClone(r))),
    readLogs: async (query) => {
      let rows = logs.filter(
        (r) =>
          (!query.logNamePrefix || r.logName.startsWith(query.logNamePrefix)) &&
          (!query.sinceTimestamp || r.timestamp >= query.sinceTimestamp),
      );
      if (query.newestFirst !== false) rows = [...rows].reverse();
      return rows.slice(0, query.limit ?? 1000);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: async () => listeners.clear(),
  };
}
