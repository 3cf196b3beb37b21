// Schema migrations, applied in order, each in its own transaction, recorded in schema_migrations.
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
  // A counter bumped by every document commit, so other processes notice changes without polling the documents.
  `CREATE TABLE store_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
   INSERT INTO store_meta (key, value) VALUES ('documents_version', 0);`,
];
