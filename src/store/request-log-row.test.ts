import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import {
  REQUEST_BATCH_FORMAT,
  REQUEST_COLUMNS_FORMAT,
  decodeRequestBatch,
  encodeRequestColumns,
  requestLogName,
  requestLogRecord,
  type RequestLogRow,
} from "./request-log-row.js";
import { openSqliteStore } from "./sqlite-store.js";

const base: RequestLogRow = [
  Date.UTC(2026, 0, 2, 3, 4, 5, 678),
  "my-project",
  "hello",
  "us-central1",
  "namespaces/my-project/revisions/hello-00001-abc",
  "GET",
  "https://hello-123.us-central1.run.app/path?q=1",
  200,
  1.234567,
  0,
  13,
  "curl/8.0",
  "127.0.0.1",
  undefined,
  undefined,
  undefined,
];

function variant(changes: Partial<Record<number, unknown>>): RequestLogRow {
  const row = [...base] as unknown[];
  for (const [index, value] of Object.entries(changes)) row[Number(index)] = value;
  return row as RequestLogRow;
}

describe("request log rows", () => {
  it("are stored compact and read back as the LogEntry Cloud Run writes", async () => {
    const rows = [
      base,
      variant({ 4: undefined, 10: undefined, 11: undefined }),
      variant({ 7: 403, 13: "dev@example.com", 14: "The request was not authenticated." }),
      variant({ 7: 500, 14: "", 11: "" }),
      variant({ 5: "POST", 6: 'https://x/"quoted"\\\u2028\u0001', 9: 12345, 15: "abc123/456;o=1" }),
      variant({ 7: 429, 8: 0, 13: "sa@p.iam.gserviceaccount.com", 14: "Rejected" }),
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
    const row = (project: string, second: number, status: number) => variant({ 0: at(second), 1: project, 7: status });
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
        0: base[0] + i,
        8: 0.1 + i / 1000,
        7: i === 5 ? 403 : 200,
        13: i === 5 ? "dev@example.com" : undefined,
      }),
    );
    const stored = encodeRequestColumns(rows);
    assert.deepEqual(decodeRequestBatch(REQUEST_COLUMNS_FORMAT, stored), rows);
    assert.ok(stored.length < 1500, `${stored.length} characters`);
    assert.ok(stored.length * 5 < JSON.stringify(rows).length, "a fifth of the row-by-row JSON or less");
    assert.deepEqual(decodeRequestBatch(REQUEST_COLUMNS_FORMAT, encodeRequestColumns([base])), [base]);
  });

  it("still reads batches written row by row (format 2) by earlier versions", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "rg-rows-"));
    await openSqliteStore({ dataDir }).close();
    const db = new Database(join(dataDir, "runguard.db"));
    db.prepare("INSERT INTO log_entries (timestamp, log_name, entry, format) VALUES (?, ?, ?, ?)").run(
      new Date(base[0]).toISOString(),
      requestLogName(base[1]),
      JSON.stringify([base, variant({ 7: 500 })]),
      REQUEST_BATCH_FORMAT,
    );
    db.close();
    const store = openSqliteStore({ dataDir });
    try {
      const read = await store.readLogs({ newestFirst: false });
      assert.deepEqual(
        read.map((r) => (r.entry["httpRequest"] as { status: number }).status),
        [200, 500],
      );
      assert.deepEqual(read[0], requestLogRecord(base, String(read[0]?.entry["insertId"])));
    } finally {
      await store.close();
    }
  });
});
