import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requestLogRecord, type RequestLogRow } from "./request-log-row.js";
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
});
