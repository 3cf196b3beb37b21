import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { decodeRequestBatch, encodeRequestBatch } from "./request-log-format.js";
import { requestLogEntry as requestLogRecord, requestLogName } from "./request-log-entry.js";
import { MIGRATIONS } from "./migrations.js";
import { migrate } from "./sqlite-db.js";
import { openSqliteStore } from "./sqlite-store.js";
import type { RequestLogRow } from "./store.js";

const base: RequestLogRow = {
  timestampMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
  projectId: "my-project",
  serviceName: "hello",
  region: "us-central1",
  revision: "namespaces/my-project/revisions/hello-00001-abc",
  method: "GET",
  url: "https://hello-123.us-central1.run.app/path?q=1",
  status: 200,
  latencyMs: 1.234567,
  requestSize: 0,
  responseSize: 13,
  userAgent: "curl/8.0",
  remoteIp: "127.0.0.1",
  principalEmail: undefined,
  textPayload: undefined,
  trace: undefined,
  reason: undefined,
  unlogged: undefined,
};

const variant = (changes: Partial<RequestLogRow>): RequestLogRow => ({ ...base, ...changes });

/** A row as formats 1 and 2 of earlier versions stored it: its values in the stored column order. */
const asStoredTuple = (row: RequestLogRow) => [
  row.timestampMs,
  row.projectId,
  row.serviceName,
  row.region,
  row.revision,
  row.method,
  row.url,
  row.status,
  row.latencyMs,
  row.requestSize,
  row.responseSize,
  row.userAgent,
  row.remoteIp,
  row.principalEmail,
  row.textPayload,
  row.trace,
];

describe("request log rows", () => {
  it("are stored compact and read back as the LogEntry Cloud Run writes", async () => {
    const rows = [
      base,
      variant({ revision: undefined, responseSize: undefined, userAgent: undefined }),
      variant({ status: 403, principalEmail: "dev@example.com", textPayload: "The request was not authenticated." }),
      variant({ status: 500, textPayload: "", userAgent: "" }),
      variant({ method: "POST", url: 'https://x/"quoted"\\\u2028\u0001', requestSize: 12345, trace: "abc123/456;o=1" }),
      variant({ status: 429, latencyMs: 0, principalEmail: "sa@p.iam.gserviceaccount.com", textPayload: "Rejected" }),
    ];
    const store = openSqliteStore({ dataDir: mkdtempSync(join(tmpdir(), "rg-rows-")) });
    try {
      await store.appendRequestLogs(rows);
      const read = await store.readLogs({ newestFirst: false });
      assert.equal(read.length, rows.length);
      read.forEach((record, i) => {
        const insertId = String(record.entry["insertId"]);
        assert.deepEqual(record, requestLogRecord(rows[i] as RequestLogRow, insertId));
      });
      assert.equal(new Set(read.map((r) => r.entry["insertId"])).size, rows.length, "insertIds are unique");
      const denied = read[2]?.entry as { severity: string; httpRequest: { status: number }; labels: object };
      assert.equal(denied.severity, "WARNING");
      assert.equal(denied.httpRequest.status, 403);
      assert.deepEqual(denied.labels, { "runguard.dev/principal": "dev@example.com" });
    } finally {
      await store.close();
    }
  });

  it("are read across batches and projects in order, with limits and since filters per entry", async () => {
    const at = (second: number) => Date.UTC(2026, 0, 2, 3, 4, second);
    const row = (project: string, second: number, status: number) =>
      variant({ timestampMs: at(second), projectId: project, status });
    const store = openSqliteStore({ dataDir: mkdtempSync(join(tmpdir(), "rg-rows-")) });
    try {
      // One batch mixing two projects, then a second batch; timestamps not in order inside a batch.
      await store.appendRequestLogs([row("a", 10, 200), row("b", 11, 201), row("a", 9, 202), row("a", 12, 203)]);
      await store.appendLogs([
        { timestamp: new Date(at(13)).toISOString(), logName: "projects/a/logs/other", entry: { i: 1 } },
      ]);
      await store.appendRequestLogs([row("a", 14, 204), row("b", 15, 205)]);
      const statuses = (records: Awaited<ReturnType<typeof store.readLogs>>) =>
        records.map((r) => (r.entry["httpRequest"] as { status?: number } | undefined)?.status ?? "other");

      assert.deepEqual(statuses(await store.readLogs({ newestFirst: false })), [200, 202, 203, 201, "other", 204, 205]);
      assert.deepEqual(statuses(await store.readLogs({})), [205, 204, "other", 201, 203, 202, 200]);
      assert.deepEqual(statuses(await store.readLogs({ limit: 3 })), [205, 204, "other"]);
      assert.deepEqual(statuses(await store.readLogs({ newestFirst: false, limit: 2 })), [200, 202]);
      assert.deepEqual(
        statuses(await store.readLogs({ logNamePrefix: "projects/a/logs/run.googleapis.com", newestFirst: false })),
        [200, 202, 203, 204],
      );
      const since = new Date(at(10)).toISOString();
      assert.deepEqual(
        statuses(await store.readLogs({ sinceTimestamp: since, newestFirst: false })),
        [200, 203, 201, "other", 204, 205],
        "the entry at second 9 is older than since although its batch is not",
      );
      const ids = (await store.readLogs({})).map((r) => r.entry["insertId"]);
      assert.equal(new Set(ids).size, ids.length, "insertIds are unique");
    } finally {
      await store.close();
    }
  });

  it("are stored by column: constant columns once, a batch of 32 in well under a page, read back unchanged", () => {
    const rows = Array.from({ length: 32 }, (_, i) =>
      variant({
        timestampMs: base.timestampMs + i,
        latencyMs: 0.1 + i / 1000,
        status: i === 5 ? 403 : 200,
        principalEmail: i === 5 ? "dev@example.com" : undefined,
      }),
    );
    const stored = encodeRequestBatch(rows);
    assert.deepEqual(decodeRequestBatch(stored), rows);
    assert.ok(stored.length < 1500, `${stored.length} characters`);
    assert.ok(stored.length * 5 < JSON.stringify(rows).length, "a fifth of the row-by-row JSON or less");
    assert.deepEqual(decodeRequestBatch(encodeRequestBatch([base])), [base]);
  });

  it("written by earlier versions (one row, format 1; a batch row by row, format 2) are converted at open", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "rg-rows-"));
    // The schema as it was before the conversion, holding rows in both earlier formats and the current one.
    const db = new Database(join(dataDir, "runguard.db"));
    migrate(db, MIGRATIONS.slice(0, 3));
    const insert = db.prepare("INSERT INTO log_entries (timestamp, log_name, entry, format) VALUES (?, ?, ?, ?)");
    const logName = requestLogName(base.projectId);
    const timestamp = new Date(base.timestampMs).toISOString();
    const single = variant({ status: 404, principalEmail: "dev@example.com" });
    const batch = [base, variant({ status: 500, textPayload: "failed" })];
    const current = variant({ status: 201 });
    insert.run(timestamp, logName, JSON.stringify(asStoredTuple(single)), 1);
    insert.run(timestamp, logName, JSON.stringify(batch.map(asStoredTuple)), 2);
    insert.run(timestamp, "projects/my-project/logs/other", JSON.stringify({ kept: true }), 0);
    insert.run(timestamp, logName, encodeRequestBatch([current]), 3);
    db.close();

    const store = openSqliteStore({ dataDir });
    try {
      const read = await store.readLogs({ newestFirst: false });
      assert.deepEqual(
        read.map((r) => (r.entry["httpRequest"] as { status: number } | undefined)?.status ?? "other"),
        [404, 200, 500, "other", 201],
      );
      [single, ...batch].forEach((row, i) =>
        assert.deepEqual(read[i], requestLogRecord(row, String(read[i]?.entry["insertId"]))),
      );
      assert.deepEqual(read[3]?.entry, { kept: true });
      assert.deepEqual(read[4], requestLogRecord(current, String(read[4]?.entry["insertId"])));
    } finally {
      await store.close();
    }
    const migrated = new Database(join(dataDir, "runguard.db"));
    const formats = migrated.prepare("SELECT format FROM log_entries ORDER BY id").pluck().all();
    migrated.close();
    assert.deepEqual(formats, [3, 3, 0, 3], "one request log format left");
  });
});
