// What only the SQLite store promises: files on disk, private to their owner, that survive reopening, carry
// their own schema version, and reveal other processes' commits.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { MIGRATIONS } from "./migrations.js";
import { migrate, openDatabase } from "./sqlite-db.js";
import { openSqliteStore } from "./sqlite-store.js";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "rg-sqlite-"));
  dirs.push(dir);
  return dir;
}
const modeOf = (path: string) => statSync(path).mode & 0o777;
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function eventually(condition: () => boolean, timeoutMs = 3000) {
  for (const deadline = Date.now() + timeoutMs; !condition() && Date.now() < deadline;) await wait(10);
}

describe("sqlite store files", () => {
  it("keeps documents and logs across reopen", async () => {
    const dataDir = join(tempDir(), "data");
    const first = openSqliteStore({ dataDir, watchExternalMs: 0 });
    await first.transact(async (tx) => tx.put("project", "projects/p", { projectId: "p" }));
    await first.appendLog({ timestamp: "2026-01-01T00:00:00.000Z", logName: "l", entry: { n: 1 } });
    await first.close();
    const second = openSqliteStore({ dataDir, watchExternalMs: 0 });
    try {
      assert.deepEqual(await second.get("project", "projects/p"), { projectId: "p" });
      assert.deepEqual(await second.readLogs({}), [
        { timestamp: "2026-01-01T00:00:00.000Z", logName: "l", entry: { n: 1 } },
      ]);
    } finally {
      await second.close();
    }
  });

  it("finishes the log writes already started before close() resolves", async () => {
    const dataDir = join(tempDir(), "data");
    const store = openSqliteStore({ dataDir, watchExternalMs: 0 });
    const record = (i: number) => ({ timestamp: "2026-01-01T00:00:00.000Z", logName: "l", entry: { i } });
    const writes = Array.from({ length: 20 }, (_, i) => store.appendLogs([record(2 * i), record(2 * i + 1)]));
    await store.close();
    await Promise.all(writes);
    const reopened = openSqliteStore({ dataDir, watchExternalMs: 0 });
    try {
      const entries = await reopened.readLogs({ newestFirst: false });
      assert.deepEqual(
        entries.map((r) => r.entry["i"]),
        Array.from({ length: 40 }, (_, i) => i),
      );
    } finally {
      await reopened.close();
    }
  });

  it("uses the given file name", async () => {
    const dataDir = join(tempDir(), "data");
    const store = openSqliteStore({ dataDir, fileName: "other.sqlite", watchExternalMs: 0 });
    await store.close();
    assert.ok(existsSync(join(dataDir, "other.sqlite")));
    assert.ok(!existsSync(join(dataDir, "runguard.db")));
  });

  it("creates the directory 0700 and the database, WAL and shared-memory files 0600, whatever the umask", async () => {
    const previous = process.umask(0);
    try {
      const dataDir = join(tempDir(), "nested", "data");
      const store = openSqliteStore({ dataDir, watchExternalMs: 0 });
      await store.transact(async (tx) => tx.put("setting", "s", { n: 1 }));
      assert.equal(modeOf(dataDir), 0o700);
      for (const file of ["runguard.db", "runguard.db-wal", "runguard.db-shm"]) {
        assert.equal(modeOf(join(dataDir, file)), 0o600, file);
      }
      await store.close();
    } finally {
      process.umask(previous);
    }
  });

  it("leaves an existing directory's mode alone but still makes the file private", async () => {
    const dataDir = join(tempDir(), "data");
    mkdirSync(dataDir, { mode: 0o755 });
    const previous = process.umask(0o022);
    try {
      await openSqliteStore({ dataDir, watchExternalMs: 0 }).close();
    } finally {
      process.umask(previous);
    }
    assert.equal(modeOf(dataDir), 0o755);
    assert.equal(modeOf(join(dataDir, "runguard.db")), 0o600);
  });

  it("configures WAL, synchronous=FULL, foreign keys and a busy timeout", () => {
    const db = openDatabase(join(tempDir(), "data"));
    try {
      assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
      assert.equal(db.pragma("synchronous", { simple: true }), 2);
      assert.equal(db.pragma("foreign_keys", { simple: true }), 1);
      assert.ok((db.pragma("busy_timeout", { simple: true }) as number) >= 1000);
    } finally {
      db.close();
    }
  });
});

describe("sqlite schema migrations", () => {
  const applied = (dataDir: string) => {
    const db = new Database(join(dataDir, "runguard.db"), { readonly: true });
    try {
      return db.prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version").all();
    } finally {
      db.close();
    }
  };

  it("applies each migration once, however often the store is opened", async () => {
    const dataDir = join(tempDir(), "data");
    await openSqliteStore({ dataDir, watchExternalMs: 0 }).close();
    const first = applied(dataDir);
    assert.deepEqual(
      first.map((r) => (r as { version: number }).version),
      MIGRATIONS.map((_, i) => i + 1),
    );
    await openSqliteStore({ dataDir, watchExternalMs: 0 }).close();
    await openSqliteStore({ dataDir, watchExternalMs: 0 }).close();
    assert.deepEqual(applied(dataDir), first);
    const db = openDatabase(dataDir);
    try {
      assert.equal(migrate(db), 0);
    } finally {
      db.close();
    }
  });

  it("applies only the migrations added since, each atomically", () => {
    const db = new Database(":memory:");
    try {
      assert.equal(migrate(db, ["CREATE TABLE a (x)"]), 1);
      assert.equal(migrate(db, ["CREATE TABLE a (x)", "CREATE TABLE b (x)"]), 1);
      // A failing migration leaves neither its own changes nor a record of itself.
      assert.throws(() => migrate(db, ["CREATE TABLE a (x)", "CREATE TABLE b (x)", "CREATE TABLE c (x); oops"]));
      assert.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'c'").pluck().get(), 0);
      assert.equal(db.prepare("SELECT max(version) FROM schema_migrations").pluck().get(), 2);
    } finally {
      db.close();
    }
  });

  it("refuses a file whose schema is newer than the code", () => {
    const dataDir = join(tempDir(), "data");
    openDatabase(dataDir).close();
    const db = new Database(join(dataDir, "runguard.db"));
    db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, '')").run(MIGRATIONS.length + 1);
    db.close();
    assert.throws(() => openSqliteStore({ dataDir, watchExternalMs: 0 }), /newer than this runguard/);
  });
});

describe("sqlite store versions and other processes", () => {
  it("never reuses a version after delete and re-create", async () => {
    const dataDir = join(tempDir(), "data");
    const store = openSqliteStore({ dataDir, watchExternalMs: 0 });
    const db = new Database(join(dataDir, "runguard.db"), { readonly: true });
    const version = () => db.prepare("SELECT version FROM documents WHERE name = 'x'").pluck().get();
    try {
      await store.transact(async (tx) => tx.put("setting", "x", { n: 1 }));
      const v1 = version() as number;
      await store.transact(async (tx) => tx.delete("setting", "x"));
      await store.transact(async (tx) => tx.put("setting", "x", { n: 1 }));
      assert.ok((version() as number) > v1);
    } finally {
      db.close();
      await store.close();
    }
  });

  it("announces commits made by another connection as a reload, but not its own", async () => {
    const dataDir = join(tempDir(), "data");
    const watcher = openSqliteStore({ dataDir, watchExternalMs: 20 });
    const writer = openSqliteStore({ dataDir, watchExternalMs: 0 });
    const seen: string[] = [];
    watcher.onChange((c) => seen.push(c.kind));
    try {
      await watcher.transact(async (tx) => tx.put("group", "groups/own", {}));
      await wait(80);
      assert.deepEqual(seen, ["group"]);
      await writer.transact(async (tx) => tx.put("group", "groups/x", {}));
      // The watcher's own commit right after must not hide the other one.
      await watcher.transact(async (tx) => tx.put("group", "groups/own", { n: 2 }));
      await eventually(() => seen.includes("*"));
      assert.deepEqual(seen, ["group", "group", "*"]);
    } finally {
      await writer.close();
      await watcher.close();
    }
  });

  it("sees and respects commits by another connection inside transactions", async () => {
    const dataDir = join(tempDir(), "data");
    const a = openSqliteStore({ dataDir, watchExternalMs: 0 });
    const b = openSqliteStore({ dataDir, watchExternalMs: 0 });
    try {
      await a.transact(async (tx) => tx.put("setting", "counter", { n: 0 }));
      let runs = 0;
      await a.transact(async (tx) => {
        runs++;
        const current = await tx.get<{ n: number }>("setting", "counter");
        if (runs === 1) await b.transact(async (other) => other.put("setting", "counter", { n: 10 }));
        tx.put("setting", "counter", { n: (current?.n ?? 0) + 1 });
      });
      assert.equal(runs, 2);
      assert.deepEqual(await b.get("setting", "counter"), { n: 11 });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
