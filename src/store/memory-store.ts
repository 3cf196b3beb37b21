// An in-memory Store with the same semantics as the SQLite one (it runs the same contract tests), for unit
// tests of other modules; it also shows the contract does not depend on SQLite.
import { ApiError } from "../core/errors.js";
import {
  compareNames,
  notifyAll,
  prefixFingerprint,
  runOptimistic,
  type ReadCheck,
  type TxBackend,
  type VersionedDoc,
} from "./optimistic-tx.js";
import { logLimit } from "./log-query.js";
import { requestLogEntry } from "./request-log-entry.js";
import { createHexPool } from "../core/ids.js";
import type { Change, Kind, LogEntryRecord, LogQuery, Store } from "./store.js";

interface StoredDoc {
  name: string;
  /** Kept as JSON text, like on disk, so every read hands out a fresh copy. */
  json: string;
  version: number;
}

export function createMemoryStore(): Store {
  const docs = new Map<Kind, Map<string, StoredDoc>>();
  const logs: LogEntryRecord[] = [];
  const insertIds = createHexPool();
  const listeners = new Set<(change: Change) => void>();
  // The commit sequence, used as the version of written documents so versions are never reused.
  let sequence = 0;
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new ApiError("UNAVAILABLE", "The store is closed.");
  };
  const table = (kind: Kind) => {
    let t = docs.get(kind);
    if (!t) docs.set(kind, (t = new Map()));
    return t;
  };
  const toDoc = (d: StoredDoc): VersionedDoc => ({ name: d.name, value: JSON.parse(d.json), version: d.version });
  const backend: TxBackend = {
    read(kind, name) {
      assertOpen();
      const doc = table(kind).get(name);
      return doc ? toDoc(doc) : undefined;
    },
    readPrefix(kind, prefix) {
      assertOpen();
      return [...table(kind).values()]
        .filter((d) => d.name.startsWith(prefix))
        .sort((a, b) => compareNames(a.name, b.name))
        .map(toDoc);
    },
    commit(checks, writes) {
      assertOpen();
      const holds = (c: ReadCheck) =>
        c.type === "doc"
          ? table(c.kind).get(c.name)?.version === c.version
          : prefixFingerprint(backend.readPrefix(c.kind, c.prefix)) === c.fingerprint;
      if (!checks.every(holds)) return false;
      if (writes.length === 0) return true;
      const version = ++sequence;
      for (const w of writes) {
        if (w.json === undefined) table(w.kind).delete(w.name);
        else table(w.kind).set(w.name, { name: w.name, json: w.json, version });
      }
      return true;
    },
  };
  // Round-tripped through JSON so the memory store keeps exactly what the SQLite one would.
  const copyLog = (r: LogEntryRecord) => JSON.parse(JSON.stringify(r)) as LogEntryRecord;

  return {
    get: async <T>(kind: Kind, name: string) => backend.read(kind, name)?.value as T | undefined,
    list: async <T>(kind: Kind, prefix = "") => backend.readPrefix(kind, prefix).map((d) => d.value as T),
    async transact(fn) {
      assertOpen();
      return runOptimistic(backend, fn, (changes) => notifyAll(listeners, changes));
    },
    async appendLog(record) {
      assertOpen();
      logs.push(copyLog(record));
    },
    async appendLogs(records) {
      assertOpen();
      logs.push(...records.map(copyLog));
    },
    async appendRequestLogs(rows) {
      assertOpen();
      for (const row of rows) logs.push(copyLog(requestLogEntry(row, insertIds(12))));
    },
    async readLogs(query: LogQuery) {
      assertOpen();
      const { logNamePrefix, sinceTimestamp } = query;
      let rows = logs.filter(
        (r) =>
          (logNamePrefix === undefined || r.logName.startsWith(logNamePrefix)) &&
          (sinceTimestamp === undefined || r.timestamp >= sinceTimestamp),
      );
      if (query.newestFirst !== false) rows = rows.reverse();
      return rows.slice(0, logLimit(query)).map(copyLog);
    },
    async scanLogs(scan) {
      assertOpen();
      const { fromTimestamp: from, beforeTimestamp: before, after } = scan;
      const records: LogEntryRecord[] = [];
      let scanned = 0;
      let lastSeen = after;
      for (let k = 0; k < logs.length; k++) {
        const row = scan.newestFirst ? logs.length - k : k + 1;
        if (after && (scan.newestFirst ? row >= after.row : row <= after.row)) continue;
        lastSeen = { row, step: 0 };
        const record = logs[row - 1] as LogEntryRecord;
        if (!scan.logNamePrefixes.some((prefix) => record.logName.startsWith(prefix))) continue;
        if ((from !== undefined && record.timestamp < from) || (before !== undefined && record.timestamp >= before))
          continue;
        scanned += 1;
        if (scan.matches(record)) records.push(copyLog(record));
        if (records.length >= scan.limit || scanned >= scan.maxScanned || scan.budgetSpent?.() === true)
          return { records, next: { row, step: 0 } };
      }
      return lastSeen ? { records, end: lastSeen } : { records };
    },
    async scrub() {
      // Nothing outlives the process: overwritten values are garbage.
      assertOpen();
    },
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async close() {
      closed = true;
      listeners.clear();
    },
  };
}
