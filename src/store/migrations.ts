// Schema migrations, applied in order at open, each in its own transaction and recorded in schema_migrations
// (version = position in this list, from 1). Append only: never edit or reorder a migration that has shipped.
import type Database from "better-sqlite3";

/** SQL, or a function for what SQL alone cannot do (it runs inside the migration's transaction). */
export type Migration = string | ((db: Database.Database) => void);

export const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE documents (
     kind TEXT NOT NULL,
     name TEXT NOT NULL,
     value TEXT NOT NULL,
     version INTEGER NOT NULL,
     update_time TEXT NOT NULL,
     PRIMARY KEY (kind, name)
   ) WITHOUT ROWID;
   CREATE TABLE log_entries (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     timestamp TEXT NOT NULL,
     log_name TEXT NOT NULL,
     entry TEXT NOT NULL
   );
   CREATE INDEX log_entries_by_name ON log_entries (log_name, timestamp);
   CREATE INDEX log_entries_by_time ON log_entries (timestamp);`,
  // The store-wide commit sequence. Every document commit takes the next number and writes it as the version
  // of each document it touches, so versions are never reused after a delete, and another process's commits
  // show up as a jump in the sequence without scanning the documents.
  `CREATE TABLE store_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
   INSERT INTO store_meta (key, value) VALUES ('documents_version', 0);`,
  // Request logs are stored as the front end's compact row (format 1) and expanded into LogEntries when read:
  // a quarter of the bytes, and none of the expansion, on the hot write path.
  `ALTER TABLE log_entries ADD COLUMN format INTEGER NOT NULL DEFAULT 0;`,
  // Request logs stored as one row (format 1) or a batch of rows (format 2) by earlier versions become batches by
  // column (format 3, request-log-format.ts), in place: same table row, timestamp and order. A format 1 row
  // becomes a batch of one, so its insertId gains the batch index.
  convertRequestRowsToColumns,
];

/** A request log row as formats 1 to 3 keep it: 16 values, in request-log-format.ts's column order. */
type StoredRow = unknown[];
const STORED_ROW_LENGTH = 16;
const CONVERT_CHUNK_ROWS = 1000;

function convertRequestRowsToColumns(db: Database.Database): void {
  const next = db.prepare(
    `SELECT id, format, entry FROM log_entries WHERE format IN (1, 2) AND id > ? ORDER BY id LIMIT ${CONVERT_CHUNK_ROWS}`,
  );
  const update = db.prepare("UPDATE log_entries SET format = 3, entry = ? WHERE id = ?");
  let after = 0;
  for (;;) {
    const chunk = next.all(after) as Array<{ id: number; format: number; entry: string }>;
    if (chunk.length === 0) return;
    for (const { id, format, entry } of chunk) {
      const parsed = JSON.parse(entry) as StoredRow | StoredRow[];
      const rows = format === 1 ? [parsed as StoredRow] : (parsed as StoredRow[]);
      update.run(JSON.stringify([rows.length, byColumn(rows)]), id);
      after = id;
    }
  }
}

/** Format 3's columns: { same: value } when every row has it (an absent value is null in JSON), else the values. */
function byColumn(rows: readonly StoredRow[]): unknown[] {
  return Array.from({ length: STORED_ROW_LENGTH }, (_, c) => {
    const first = rows[0]?.[c] ?? null;
    return rows.every((row) => (row[c] ?? null) === first) ? { same: first } : rows.map((row) => row[c] ?? null);
  });
}
