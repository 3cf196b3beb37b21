// Opening the SQLite file: private permissions, connection settings, schema migrations. Shared by the store's
// connection and the log writer thread's.
import Database from "better-sqlite3";
import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS, type Migration } from "./migrations.js";

export type Db = Database.Database;

export const DEFAULT_FILE_NAME = "runguard.db";

/**
 * Settings every connection to the file needs (they are per connection, not stored in the file).
 *
 * synchronous=FULL with WAL: kill -9 alone could not corrupt or tear the store at any setting, because a commit
 * is a checksummed commit frame appended to the WAL with write() before COMMIT returns; the kernel keeps those
 * pages after the process dies, and recovery ignores frames after the last complete commit. So committed
 * transactions are complete and uncommitted ones absent. NORMAL would give the same after a power cut or
 * kernel panic, but could drop the most recent commits. FULL fsyncs the WAL at every commit, so a change
 * acknowledged to an API client (a policy, a secret version, a key) survives even that. The cost is one fsync
 * per commit: fine for control-plane writes, and the high-volume request logs are written from a worker thread.
 */
export function applyPragmas(db: Db): void {
  // First, so that the other statements wait for a lock held by another process instead of failing. The wait
  // blocks the thread, which is acceptable because every writer holds the lock for one short commit.
  db.pragma("busy_timeout = 5000");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  // Deleted and overwritten content is zeroed, not left in free space, where a copy of the file would show it.
  db.pragma("secure_delete = ON");
}

/** Applies the migrations not yet recorded and returns how many it applied. */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  const newest = () => (db.prepare("SELECT max(version) FROM schema_migrations").pluck().get() as number | null) ?? 0;
  const found = newest();
  if (found > migrations.length) {
    throw new Error(
      `The store's schema (version ${found}) is newer than this runguard understands (${migrations.length}); upgrade runguard.`,
    );
  }
  const isApplied = db.prepare("SELECT 1 FROM schema_migrations WHERE version = ?").pluck();
  const record = db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
  let applied = 0;
  for (let version = found + 1; version <= migrations.length; version++) {
    const migration = migrations[version - 1] ?? "";
    const apply = db.transaction(() => {
      // Checked again under the write lock: another process opening the same file may have just applied it.
      if (isApplied.get(version) !== undefined) return false;
      if (typeof migration === "string") db.exec(migration);
      else migration(db);
      record.run(version, new Date().toISOString());
      return true;
    });
    if (apply.immediate()) applied++;
  }
  return applied;
}

/** Opens (creating if needed) the store's file in dataDir, readable by its owner only, and migrates it. */
export function openDatabase(dataDir: string, fileName: string = DEFAULT_FILE_NAME): Db {
  // Only a directory created here is chmodded (an existing one is the user's choice); the chmod makes it exactly
  // 0700 whatever the umask.
  if (mkdirSync(dataDir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(dataDir, 0o700);
  const file = join(dataDir, fileName);
  // Created owner-only before SQLite opens it, so it is never readable by others even for an instant; the chmod
  // covers a file made by something else. SQLite gives the -wal and -shm files the database file's mode.
  closeSync(openSync(file, "a", 0o600));
  chmodSync(file, 0o600);
  const db = new Database(file);
  try {
    applyPragmas(db);
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
