// Schema migrations, applied in order at open, each in its own transaction and recorded in schema_migrations
// (version = position in this list, from 1). Append only: never edit or reorder a migration that has shipped.
export const MIGRATIONS: readonly string[] = [
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
];
