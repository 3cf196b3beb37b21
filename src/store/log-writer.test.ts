// The writer thread takes request batches without answering each one: sync() is the only way to know they are
// written, so it must cover every batch sent before it, keep their order, and report a batch that failed.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "./sqlite-db.js";
import { startLogWriter, type LogWriter, type StartLogWriterOptions } from "./log-writer.js";
import { REQUEST_BATCH_FORMAT, decodeRequestBatch } from "./request-log-format.js";
import type { RequestLogRow } from "./store.js";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function freshDatabase() {
  const dir = mkdtempSync(join(tmpdir(), "rg-writer-"));
  dirs.push(dir);
  const db = openDatabase(dir);
  return { db, file: db.name };
}

const row = (started: number, path: string): RequestLogRow => ({
  timestampMs: started,
  projectId: "p",
  serviceName: "hello",
  region: "us-central1",
  revision: "namespaces/p/revisions/hello-00001-abc",
  method: "GET",
  url: `https://hello-1.us-central1.run.app${path}`,
  status: 200,
  latencyMs: 0.001,
  requestSize: 0,
  responseSize: 13,
  userAgent: undefined,
  remoteIp: "127.0.0.1",
  principalEmail: undefined,
  textPayload: undefined,
  trace: undefined,
  reason: undefined,
});

/** The request paths stored, in the order the batches were written. */
function storedPaths(db: ReturnType<typeof openDatabase>): string[] {
  const batches = db
    .prepare(`SELECT entry FROM log_entries WHERE format = ${REQUEST_BATCH_FORMAT} ORDER BY id`)
    .pluck()
    .all() as string[];
  return batches.flatMap((entry) => decodeRequestBatch(entry).map((r) => new URL(r.url).pathname));
}

type Lost = Array<{ rows: number; error: string }>;

/** A writer thread on a fresh database, both closed after `run`; `lost` collects what the thread gave up on. */
async function withWriter(
  run: (writer: LogWriter, db: ReturnType<typeof openDatabase>, lost: Lost) => Promise<void>,
  options: StartLogWriterOptions = {},
) {
  const { db, file } = freshDatabase();
  const lost: Lost = [];
  const writer = startLogWriter(file, { onLost: (rows, error) => lost.push({ rows, error }), ...options });
  try {
    await run(writer, db, lost);
  } finally {
    await writer.close();
    db.close();
  }
}

describe("log writer thread, request batches", () => {
  it("has written every batch sent before sync() resolves, in order", () =>
    withWriter(async (writer, db) => {
      for (let i = 0; i < 50; i++) writer.appendRequests([row(1_000 + i, `/a${i}`), row(1_000 + i, `/b${i}`)]);
      await writer.sync();
      assert.deepEqual(storedPaths(db), Array.from({ length: 50 }, (_, i) => [`/a${i}`, `/b${i}`]).flat());
    }));

  it("loses only the bad row of a batch, reports it as it happens and at the next sync only, and goes on", () =>
    withWriter(async (writer, db, lost) => {
      writer.appendRequests([row(1_000, "/before")]);
      // No valid timestamp can be derived from NaN, so this row's insert throws in the thread.
      writer.appendRequests([row(1_500, "/good"), row(Number.NaN, "/broken"), row(1_600, "/good-too")]);
      writer.appendRequests([row(2_000, "/after")]);
      await assert.rejects(writer.sync(), /Writing logs failed: RangeError/);
      await writer.sync();
      assert.deepEqual(storedPaths(db), ["/before", "/good", "/good-too", "/after"]);
      assert.equal(lost.length, 1);
      assert.equal(lost[0]?.rows, 1);
      assert.match(lost[0]?.error ?? "", /RangeError/);
    }));

  it("keeps batches the database is locked against and writes them, in order, once it is free", () =>
    withWriter(
      async (writer, db, lost) => {
        db.prepare("BEGIN IMMEDIATE").run();
        writer.appendRequests([row(1_000, "/a")]);
        writer.appendRequests([row(1_001, "/b"), row(1_002, "/c")]);
        await new Promise((r) => setTimeout(r, 400));
        db.prepare("COMMIT").run();
        await writer.sync();
        assert.deepEqual(storedPaths(db), ["/a", "/b", "/c"]);
        assert.deepEqual(lost, []);
      },
      { busyTimeoutMs: 20, retryForMs: 10_000 },
    ));

  it("gives up on locked-out rows after retrying for retryForMs, reports them, and writes what comes after", () =>
    withWriter(
      async (writer, db, lost) => {
        db.prepare("BEGIN IMMEDIATE").run();
        writer.appendRequests([row(1_000, "/x"), row(1_001, "/y")]);
        await assert.rejects(writer.sync(), /Writing logs failed: .*(SQLITE_BUSY|database is locked)/);
        assert.deepEqual(
          lost.map((l) => l.rows),
          [2],
        );
        db.prepare("COMMIT").run();
        writer.appendRequests([row(2_000, "/z")]);
        await writer.sync();
        assert.deepEqual(storedPaths(db), ["/z"]);
      },
      { busyTimeoutMs: 20, retryForMs: 300 },
    ));

  it("writes the batches already sent when closed without a sync", async () => {
    const { db, file } = freshDatabase();
    const writer = startLogWriter(file);
    for (let i = 0; i < 20; i++) writer.appendRequests([row(1_000 + i, `/c${i}`)]);
    await writer.close();
    try {
      assert.deepEqual(
        storedPaths(db),
        Array.from({ length: 20 }, (_, i) => `/c${i}`),
      );
    } finally {
      db.close();
    }
  });
});

describe("log writer thread, request log retention", () => {
  const HOUR = 3600_000;
  const requestBytes = (db: ReturnType<typeof openDatabase>) =>
    db
      .prepare(
        "SELECT coalesce(sum(length(entry) + length(log_name) + length(timestamp) + 16), 0) FROM log_entries WHERE format <> 0",
      )
      .pluck()
      .get() as number;

  it("deletes request logs older than maxAgeMs, and leaves audit entries alone", () =>
    withWriter(
      async (writer, db) => {
        const now = Date.now();
        for (let i = 0; i < 30; i++) writer.appendRequests([row(now - 3 * HOUR + i, `/old${i}`)]);
        writer.appendRequests([row(now - 1000, "/recent")]);
        await writer.append([
          { timestamp: new Date(now - 3 * HOUR).toISOString(), logName: "projects/p/logs/audit", entry: { a: 1 } },
        ]);
        await writer.sync();
        await writer.retain();
        assert.deepEqual(storedPaths(db), ["/recent"]);
        assert.equal(db.prepare("SELECT count(*) FROM log_entries WHERE format = 0").pluck().get(), 1);
      },
      { retention: { maxAgeMs: 2 * HOUR, maxBytes: 1_000_000_000, checkEveryMs: 3_600_000 } },
    ));

  it("past maxBytes deletes the oldest request logs, keeping the newest, down to under the limit", () =>
    withWriter(
      async (writer, db) => {
        const now = Date.now();
        for (let i = 0; i < 400; i++) {
          writer.appendRequests([row(now + i, `/r${i}`)]);
          if (i % 50 === 49) await writer.sync();
        }
        await writer.sync();
        assert.ok(requestBytes(db) > 20_000, `${requestBytes(db)} bytes written`);
        await writer.retain();
        const kept = storedPaths(db);
        assert.ok(requestBytes(db) <= 20_000, `${requestBytes(db)} bytes kept`);
        assert.ok(kept.length > 10, `${kept.length} kept`);
        assert.equal(kept.at(-1), "/r399", "the newest is kept");
        assert.deepEqual(
          kept,
          Array.from({ length: kept.length }, (_, i) => `/r${400 - kept.length + i}`),
        );
      },
      { retention: { maxAgeMs: 24 * HOUR, maxBytes: 20_000, checkEveryMs: 3_600_000 } },
    ));

  it("enforces the limits by itself every checkEveryMs", () =>
    withWriter(
      async (writer, db) => {
        for (let i = 0; i < 300; i++) writer.appendRequests([row(Date.now(), `/t${i}`)]);
        await writer.sync();
        const deadline = Date.now() + 10_000;
        while (requestBytes(db) > 10_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.ok(requestBytes(db) <= 10_000, `${requestBytes(db)} bytes`);
      },
      { retention: { maxAgeMs: 24 * HOUR, maxBytes: 10_000, checkEveryMs: 100 } },
    ));

  const instanceLine = (log: string, ms: number, text: string) => ({
    timestamp: new Date(ms).toISOString(),
    logName: `projects/p/logs/run.googleapis.com%2F${log}`,
    entry: { textPayload: text },
  });
  const storedTexts = (db: ReturnType<typeof openDatabase>) =>
    (db.prepare("SELECT entry FROM log_entries WHERE format = 0 ORDER BY id").pluck().all() as string[]).map(
      (entry) => (JSON.parse(entry) as { textPayload?: string }).textPayload ?? "audit",
    );

  it("deletes instance logs (stdout, stderr, varlog/system) older than maxAgeMs too, and leaves audit entries", () =>
    withWriter(
      async (writer, db) => {
        const old = Date.now() - 3 * HOUR;
        await writer.append([
          instanceLine("stdout", old, "old out"),
          instanceLine("stderr", old, "old err"),
          instanceLine("varlog%2Fsystem", old, "old warning"),
          { timestamp: new Date(old).toISOString(), logName: "projects/p/logs/audit", entry: {} },
          instanceLine("stdout", Date.now(), "recent out"),
        ]);
        await writer.retain();
        assert.deepEqual(storedTexts(db), ["audit", "recent out"]);
      },
      { retention: { maxAgeMs: 2 * HOUR, maxBytes: 1_000_000_000, checkEveryMs: 3_600_000 } },
    ));

  it("keeps instance logs under maxBytes counted apart: a noisy instance deletes its own oldest, not request logs", () =>
    withWriter(
      async (writer, db) => {
        const now = Date.now();
        for (let i = 0; i < 20; i++) writer.appendRequests([row(now - 1000 + i, `/r${i}`)]);
        await writer.sync();
        for (let i = 0; i < 40; i++) await writer.append([instanceLine("stdout", now + i, `line ${i}`.padEnd(500))]);
        await writer.retain();
        assert.equal(storedPaths(db).length, 20, "request logs are all kept");
        const kept = storedTexts(db).map((text) => text.trim());
        assert.ok(kept.length > 5 && kept.length < 40, `${kept.length} instance lines kept`);
        assert.equal(kept.at(-1), "line 39", "the newest is kept");
        const instanceBytes = db
          .prepare(
            "SELECT sum(length(entry) + length(log_name) + length(timestamp) + 16) FROM log_entries WHERE format = 0",
          )
          .pluck()
          .get() as number;
        assert.ok(instanceBytes <= 10_000, `${instanceBytes} bytes of instance logs kept`);
      },
      { retention: { maxAgeMs: 24 * HOUR, maxBytes: 10_000, checkEveryMs: 3_600_000 } },
    ));
});
