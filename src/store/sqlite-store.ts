// The embedded default store: one SQLite file in the data directory (see sqlite-db.ts for why kill -9 at any
// moment leaves it consistent). Transactions are the optimistic ones of optimistic-tx.ts, whose header also
// sketches the PostgreSQL equivalent; the check-and-write at commit is one SQLite write transaction. Change
// notifications reach listeners in this process directly; commits by other processes (e.g. the CLI) show up as
// a jump in the commit sequence and are announced as a "*" reload.
import type Database from "better-sqlite3";
import { ApiError } from "../core/errors.js";
import { startLogWriter } from "./log-writer.js";
import type { LogRetention } from "./log-writer-worker.js";
import { logLimit } from "./log-query.js";
import { REQUEST_BATCH_FORMAT, batchInsertIdOf, decodeRequestBatch } from "./request-log-format.js";
import { requestLogEntry } from "./request-log-entry.js";
import {
  notifyAll,
  prefixFingerprint,
  prefixUpperBound,
  runOptimistic,
  type PendingWrite,
  type ReadCheck,
  type TxBackend,
  type VersionedDoc,
} from "./optimistic-tx.js";
import { DEFAULT_FILE_NAME, openDatabase, type Db } from "./sqlite-db.js";
import type { Change, Kind, LogEntryRecord, LogQuery, LogScan, LogScanPage, RequestLogRow, Store } from "./store.js";

export interface SqliteStoreOptions {
  dataDir: string;
  /** Defaults to runguard.db. */
  fileName?: string;
  /** How often to look for commits by other processes, in ms; 0 disables. Defaults to 500. */
  watchExternalMs?: number;
  /** Retention of request logs and instance logs, enforced by the log writer thread (only by the process
   * serving requests). */
  logRetention?: LogRetention;
}

type DocRow = { name: string; value: string; version: number };

type LogRow = { id: number; timestamp: string; log_name: string; entry: string; format: number };

/** Up to `limit` records from stored rows: whole entries, and the entries of request log batches. */
function collectLogRecords(
  rows: IterableIterator<LogRow>,
  newestFirst: boolean,
  since: string | undefined,
  limit: number,
): LogEntryRecord[] {
  const records: LogEntryRecord[] = [];
  for (const r of rows) {
    if (r.format === REQUEST_BATCH_FORMAT) {
      const batch = decodeRequestBatch(r.entry);
      for (let k = 0; k < batch.length && records.length < limit; k++) {
        const index = newestFirst ? batch.length - 1 - k : k;
        const record = requestLogEntry(batch[index] as RequestLogRow, batchInsertIdOf(r.id, index));
        // The table row's timestamp is the batch's latest; each entry of it is filtered on its own.
        if (since === undefined || record.timestamp >= since) records.push(record);
      }
    } else {
      records.push({
        timestamp: r.timestamp,
        logName: r.log_name,
        entry: JSON.parse(r.entry) as Record<string, unknown>,
      });
    }
    if (records.length >= limit) break;
  }
  return records;
}

/** Table rows one scanLogs call reads at most, unless the scan says otherwise. */
const SCAN_ROW_WINDOW = 50_000;

/** The entries of one stored row, in the scan's order, each with its step in the row. */
function* rowEntries(r: LogRow, newestFirst: boolean): Generator<[LogEntryRecord, number]> {
  if (r.format !== REQUEST_BATCH_FORMAT) {
    yield [{ timestamp: r.timestamp, logName: r.log_name, entry: JSON.parse(r.entry) as Record<string, unknown> }, 0];
    return;
  }
  const batch = decodeRequestBatch(r.entry);
  for (let step = 0; step < batch.length; step++) {
    const index = newestFirst ? batch.length - 1 - step : step;
    yield [requestLogEntry(batch[index] as RequestLogRow, batchInsertIdOf(r.id, index)), step];
  }
}

/** Told about each document commit: the commit sequence before it and the number it took. */
type OnCommitted = (before: number, after: number) => void;

function createBackend(db: Db, assertOpen: () => void, onCommitted: OnCommitted): TxBackend {
  const getDoc = db.prepare("SELECT name, value, version FROM documents WHERE kind = ? AND name = ?");
  const listFrom = db.prepare("SELECT name, value, version FROM documents WHERE kind = ? AND name >= ? ORDER BY name");
  const listRange = db.prepare(
    "SELECT name, value, version FROM documents WHERE kind = ? AND name >= ? AND name < ? ORDER BY name",
  );
  const upsert = db.prepare(
    `INSERT INTO documents (kind, name, value, version, update_time) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (kind, name) DO UPDATE
       SET value = excluded.value, version = excluded.version, update_time = excluded.update_time`,
  );
  const remove = db.prepare("DELETE FROM documents WHERE kind = ? AND name = ?");
  const readSequence = db.prepare("SELECT value FROM store_meta WHERE key = 'documents_version'").pluck();
  const setSequence = db.prepare("UPDATE store_meta SET value = ? WHERE key = 'documents_version'");
  const toDoc = (row: DocRow): VersionedDoc => ({ name: row.name, value: JSON.parse(row.value), version: row.version });

  const read = (kind: Kind, name: string) => {
    assertOpen();
    const row = getDoc.get(kind, name) as DocRow | undefined;
    return row ? toDoc(row) : undefined;
  };
  const readPrefix = (kind: Kind, prefix: string) => {
    assertOpen();
    const bound = prefixUpperBound(prefix);
    const rows = bound === undefined ? listFrom.all(kind, prefix) : listRange.all(kind, prefix, bound);
    return (rows as DocRow[]).map(toDoc);
  };
  const holds = (check: ReadCheck) =>
    check.type === "doc"
      ? (getDoc.get(check.kind, check.name) as DocRow | undefined)?.version === check.version
      : prefixFingerprint(readPrefix(check.kind, check.prefix)) === check.fingerprint;
  const validate = db.transaction((checks: readonly ReadCheck[]) => checks.every(holds));
  /** Returns the commit sequence it started from, or undefined on a conflict. */
  const checkAndWrite = db.transaction((checks: readonly ReadCheck[], writes: readonly PendingWrite[]) => {
    if (!checks.every(holds)) return undefined;
    const before = readSequence.get() as number;
    const version = before + 1;
    setSequence.run(version);
    const now = new Date().toISOString();
    for (const w of writes) {
      if (w.json === undefined) remove.run(w.kind, w.name);
      else upsert.run(w.kind, w.name, w.json, version, now);
    }
    return before;
  });
  return {
    read,
    readPrefix,
    commit(checks, writes) {
      assertOpen();
      // A read-only transaction still has to prove its reads were one consistent state, but a read
      // transaction does that without taking the write lock from other processes.
      if (writes.length === 0) return checks.length === 0 || validate.deferred(checks);
      const before = checkAndWrite.immediate(checks, writes);
      if (before === undefined) return false;
      // Here, not inside the transaction function: COMMIT itself could still have failed there.
      onCommitted(before, before + 1);
      return true;
    },
  };
}

export function openSqliteStore(options: SqliteStoreOptions): Store {
  const fileName = options.fileName ?? DEFAULT_FILE_NAME;
  const db = openDatabase(options.dataDir, fileName);
  const logWriter = startLogWriter(db.name, options.logRetention ? { retention: options.logRetention } : {});
  const listeners = new Set<(change: Change) => void>();
  let closed = false;
  let closing: Promise<void> | undefined;
  const assertOpen = () => {
    if (closed) throw new ApiError("UNAVAILABLE", "The store is closed.");
  };

  const readSequence = db.prepare("SELECT value FROM store_meta WHERE key = 'documents_version'").pluck();
  let seenSequence = readSequence.get() as number;
  const backend = createBackend(db, assertOpen, (before, after) => {
    // If another process committed since we last looked, leave seenSequence behind so the watcher still
    // announces that commit.
    if (before === seenSequence) seenSequence = after;
  });
  const watchMs = options.watchExternalMs ?? 500;
  const watcher =
    watchMs > 0
      ? setInterval(() => {
          if (closed) return;
          const now = readSequence.get() as number;
          if (now === seenSequence) return;
          seenSequence = now;
          notifyAll(listeners, [{ kind: "*", name: "*", value: undefined }]);
        }, watchMs)
      : undefined;
  watcher?.unref();

  const firstLogId = db.prepare("SELECT min(id) FROM log_entries").pluck();
  const lastLogId = db.prepare("SELECT max(id) FROM log_entries").pluck();
  const logQueries = new Map<string, Database.Statement>();
  const logQuery = (sql: string) => {
    let statement = logQueries.get(sql);
    if (!statement) logQueries.set(sql, (statement = db.prepare(sql)));
    return statement;
  };

  return {
    async get<T>(kind: Kind, name: string) {
      return backend.read(kind, name)?.value as T | undefined;
    },
    async list<T>(kind: Kind, prefix = "") {
      return backend.readPrefix(kind, prefix).map((d) => d.value as T);
    },
    async transact(fn) {
      assertOpen();
      return runOptimistic(backend, fn, (changes) => notifyAll(listeners, changes));
    },
    async appendLog(record: LogEntryRecord) {
      assertOpen();
      await logWriter.append([record]);
    },
    async appendLogs(records: readonly LogEntryRecord[]) {
      assertOpen();
      await logWriter.append(records);
    },
    async appendRequestLogs(rows) {
      assertOpen();
      logWriter.appendRequests(rows);
    },
    async readLogs(query: LogQuery) {
      assertOpen();
      // Request batches go to the writer thread unanswered; this waits until those already sent are written or
      // given up on. Rows given up on were already reported (a process warning) when it happened; reads go on.
      await logWriter.sync().catch(() => undefined);
      const limit = logLimit(query) ?? Infinity;
      // Not even an iterator when nothing is asked for: an unfinished one keeps the connection busy.
      if (limit <= 0) return [];
      const clauses: string[] = [];
      const params: unknown[] = [];
      if (query.logNamePrefix) {
        const bound = prefixUpperBound(query.logNamePrefix);
        clauses.push(bound === undefined ? "log_name >= ?" : "log_name >= ? AND log_name < ?");
        params.push(query.logNamePrefix, ...(bound === undefined ? [] : [bound]));
      }
      if (query.sinceTimestamp !== undefined) {
        clauses.push("timestamp >= ?");
        params.push(query.sinceTimestamp);
      }
      const where = clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "";
      // Append order: the order the entries were recorded in, and a total order even when timestamps tie.
      const newestFirst = query.newestFirst !== false;
      const rows = logQuery(
        `SELECT id, timestamp, log_name, entry, format FROM log_entries ${where} ORDER BY id ${newestFirst ? "DESC" : "ASC"}`,
      ).iterate(...params) as IterableIterator<LogRow>;
      return collectLogRecords(rows, newestFirst, query.sinceTimestamp, limit);
    },
    async scanLogs(scan: LogScan): Promise<LogScanPage> {
      assertOpen();
      await logWriter.sync().catch(() => undefined);
      if (scan.limit <= 0 || scan.maxScanned <= 0 || scan.logNamePrefixes.length === 0) return { records: [] };
      const { fromTimestamp: from, beforeTimestamp: before, after, newestFirst } = scan;
      const first = (newestFirst ? lastLogId : firstLogId).get() as number | null;
      const last = (newestFirst ? firstLogId : lastLogId).get() as number | null;
      if (first === null || last === null) return { records: [] };
      // One call reads a window of table rows in id order (the primary key, never a sort): bounded work however
      // few rows match. `+column` keeps SQLite from choosing an index that would need a sort.
      const start = after ? after.row : first;
      const end = newestFirst ? start - (scan.maxRows ?? SCAN_ROW_WINDOW) : start + (scan.maxRows ?? SCAN_ROW_WINDOW);
      const names: string[] = [];
      const params: unknown[] = [start, end];
      for (const prefix of scan.logNamePrefixes) {
        const bound = prefixUpperBound(prefix);
        names.push(bound === undefined ? "+log_name >= ?" : "(+log_name >= ? AND +log_name < ?)");
        params.push(prefix, ...(bound === undefined ? [] : [bound]));
      }
      const clauses = [newestFirst ? "id <= ? AND id > ?" : "id >= ? AND id < ?", `(${names.join(" OR ")})`];
      if (from !== undefined) {
        // A request batch row's timestamp is its latest entry's: right for this bound, not for the upper one.
        clauses.push("+timestamp >= ?");
        params.push(from);
      }
      if (before !== undefined) {
        clauses.push(`(format = ${REQUEST_BATCH_FORMAT} OR +timestamp < ?)`);
        params.push(before);
      }
      const rows = logQuery(
        `SELECT id, timestamp, log_name, entry, format FROM log_entries WHERE ${clauses.join(" AND ")} ORDER BY id ${newestFirst ? "DESC" : "ASC"}`,
      ).iterate(...params) as IterableIterator<LogRow>;
      const records: LogEntryRecord[] = [];
      let scanned = 0;
      let lastSeen = after;
      for (const r of rows) {
        for (const [record, step] of rowEntries(r, newestFirst)) {
          if (after && r.id === after.row && step <= after.step) continue;
          lastSeen = { row: r.id, step };
          if ((from !== undefined && record.timestamp < from) || (before !== undefined && record.timestamp >= before))
            continue;
          scanned += 1;
          if (scan.matches(record)) records.push(record);
          // Leaving the loop ends the statement's iteration (return() resets it).
          if (records.length >= scan.limit || scanned >= scan.maxScanned || scan.budgetSpent?.() === true)
            return { records, next: { row: r.id, step } };
        }
      }
      // The window is read; rows lie beyond it unless it reached the table's other end. Resume at its edge.
      const more = newestFirst ? end >= last : end <= last;
      if (more) return { records, next: { row: end, step: -1 } };
      return lastSeen ? { records, end: lastSeen } : { records };
    },
    async scrub() {
      assertOpen();
      // secure_delete (sqlite-db.ts) zeroes what is deleted from now on; VACUUM rewrites every page, so free
      // pages from before are gone too; the checkpoint moves the WAL into the file and empties it.
      await logWriter.sync().catch(() => undefined);
      db.exec("VACUUM");
      db.pragma("wal_checkpoint(TRUNCATE)");
    },
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close() {
      // Every caller waits for the same shutdown, which ends when the last pending log write has landed.
      closing ??= (async () => {
        closed = true;
        if (watcher) clearInterval(watcher);
        listeners.clear();
        try {
          await logWriter.close();
        } finally {
          db.close();
        }
      })();
      return closing;
    },
  };
}
