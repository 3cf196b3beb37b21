// The embedded default store: one SQLite file in the data directory. WAL mode with synchronous=FULL means a
// committed transaction survives kill -9 (and power loss), and an interrupted one leaves no trace: SQLite's
// journal makes each commit atomic. Change notifications reach listeners in this process; other processes
// (e.g. the CLI) are noticed through PRAGMA data_version and announced as a reload.
import Database from "better-sqlite3";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ApiError } from "../core/errors.js";
import { MIGRATIONS } from "./migrations.js";
import { startLogWriter } from "./log-writer.js";
import {
  runOptimistic,
  prefixFingerprint,
  type PendingWrite,
  type ReadCheck,
  type TxBackend,
  type VersionedDoc,
} from "./optimistic-tx.js";
import type { Change, Kind, LogEntryRecord, LogQuery, Store } from "./store.js";

export interface SqliteStoreOptions {
  dataDir: string;
  fileName?: string;
  /** How often to look for commits by other processes; 0 disables. */
  watchExternalMs?: number;
}

type Db = Database.Database;

function openDatabase(dataDir: string, fileName: string): Db {
  if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, fileName);
  const db = new Database(file);
  chmodSync(file, 0o600);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  const applied = new Set(
    (db.prepare("SELECT version FROM schema_migrations").all() as Array<{ version: number }>).map((r) => r.version),
  );
  MIGRATIONS.forEach((sql, index) => {
    const version = index + 1;
    if (applied.has(version)) return;
    db.transaction(() => {
      db.exec(sql);
      db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(
        version,
        new Date().toISOString(),
      );
    }).immediate();
  });
}

/** Upper bound for a prefix range scan: names never contain U+10FFFF. */
const prefixEnd = (prefix: string) => `${prefix}\u{10FFFF}`;

function createBackend(db: Db): TxBackend {
  const getDoc = db.prepare("SELECT name, value, version FROM documents WHERE kind = ? AND name = ?");
  const listDocs = db.prepare(
    "SELECT name, value, version FROM documents WHERE kind = ? AND name >= ? AND name < ? ORDER BY name",
  );
  const upsert = db.prepare(
    `INSERT INTO documents (kind, name, value, version, update_time) VALUES (?, ?, ?, 1, ?)
     ON CONFLICT (kind, name) DO UPDATE SET value = excluded.value, version = documents.version + 1, update_time = excluded.update_time`,
  );
  const remove = db.prepare("DELETE FROM documents WHERE kind = ? AND name = ?");
  const bump = db.prepare("UPDATE store_meta SET value = value + 1 WHERE key = 'documents_version'");
  type Row = { name: string; value: string; version: number };
  const toDoc = (row: Row): VersionedDoc => ({ name: row.name, value: JSON.parse(row.value), version: row.version });
  const read = (kind: Kind, name: string) => {
    const row = getDoc.get(kind, name) as Row | undefined;
    return row ? toDoc(row) : undefined;
  };
  const readPrefix = (kind: Kind, prefix: string) =>
    (listDocs.all(kind, prefix, prefixEnd(prefix)) as Row[]).map(toDoc);
  const stillHolds = (check: ReadCheck) =>
    check.type === "doc"
      ? read(check.kind, check.name)?.version === check.version
      : prefixFingerprint(readPrefix(check.kind, check.prefix)) === check.fingerprint;
  const commitTx = db.transaction((checks: ReadCheck[], writes: PendingWrite[]) => {
    if (!checks.every(stillHolds)) return false;
    const now = new Date().toISOString();
    for (const w of writes) {
      if (w.json === undefined) remove.run(w.kind, w.name);
      else upsert.run(w.kind, w.name, w.json, now);
    }
    if (writes.length > 0) bump.run();
    return true;
  });
  return { read, readPrefix, commit: (checks, writes) => commitTx.immediate(checks, writes) };
}

export function openSqliteStore(options: SqliteStoreOptions): Store {
  const file = join(options.dataDir, options.fileName ?? "runguard.db");
  const db = openDatabase(options.dataDir, options.fileName ?? "runguard.db");
  const logWriter = startLogWriter(file);
  const backend = createBackend(db);
  const listeners = new Set<(change: Change) => void>();
  let closed = false;
  const assertOpen = () => {
    if (closed) throw new ApiError("UNAVAILABLE", "The store is closed.");
  };
  const notify = (changes: Change[]) => {
    for (const change of changes) {
      for (const listener of listeners) {
        try {
          listener(change);
        } catch {
          // A listener's failure must not undo a commit or starve the other listeners.
        }
      }
    }
  };
  const versionQuery = db.prepare("SELECT value FROM store_meta WHERE key = 'documents_version'");
  const dataVersion = () => (versionQuery.get() as { value: number }).value;
  let seenVersion = dataVersion();
  const watchMs = options.watchExternalMs ?? 500;
  const watcher =
    watchMs > 0
      ? setInterval(() => {
          if (closed) return;
          const now = dataVersion();
          if (now !== seenVersion) {
            seenVersion = now;
            notify([{ kind: "*", name: "*", value: undefined }]);
          }
        }, watchMs)
      : undefined;
  watcher?.unref();

  return {
    async get<T>(kind: Kind, name: string) {
      assertOpen();
      return backend.read(kind, name)?.value as T | undefined;
    },
    async list<T>(kind: Kind, prefix = "") {
      assertOpen();
      return backend.readPrefix(kind, prefix).map((d) => d.value as T);
    },
    async transact(fn) {
      assertOpen();
      return runOptimistic(backend, fn, (changes) => {
        seenVersion = dataVersion();
        notify(changes);
      });
    },
    async appendLog(record: LogEntryRecord) {
      assertOpen();
      await logWriter.append([record]);
    },
    async appendLogs(records: readonly LogEntryRecord[]) {
      assertOpen();
      await logWriter.append(records);
    },
    async readLogs(query: LogQuery) {
      assertOpen();
      const clauses: string[] = [];
      const params: unknown[] = [];
      if (query.logNamePrefix) {
        clauses.push("log_name >= ? AND log_name < ?");
        params.push(query.logNamePrefix, prefixEnd(query.logNamePrefix));
      }
      if (query.sinceTimestamp) {
        clauses.push("timestamp >= ?");
        params.push(query.sinceTimestamp);
      }
      const where = clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "";
      const order = query.newestFirst === false ? "ASC" : "DESC";
      const sql = `SELECT timestamp, log_name, entry FROM log_entries ${where} ORDER BY id ${order} LIMIT ?`;
      const rows = db.prepare(sql).all(...params, query.limit ?? 1000) as Array<{
        timestamp: string;
        log_name: string;
        entry: string;
      }>;
      return rows.map((r) => ({
        timestamp: r.timestamp,
        logName: r.log_name,
        entry: JSON.parse(r.entry) as Record<string, unknown>,
      }));
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (watcher) clearInterval(watcher);
      listeners.clear();
      await logWriter.close();
      db.close();
    },
  };
}
