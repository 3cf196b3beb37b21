import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { requestLogJson, requestLogRecord, type RequestLogRow } from "./request-log-row.js";

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
  it("serialize to exactly the JSON of the LogEntry object", () => {
    const rows = [
      base,
      variant({ 4: undefined, 10: undefined, 11: undefined }),
      variant({ 7: 403, 13: "dev@example.com", 14: "The request was not authenticated." }),
      variant({ 7: 500, 14: "", 11: "" }),
      variant({ 5: "POST", 6: 'https://x/"quoted"\\\u2028\u0001', 9: 12345, 15: "abc123/456;o=1" }),
      variant({ 7: 429, 8: 0, 13: "sa@p.iam.gserviceaccount.com", 14: "Rejected" }),
    ];
    for (const row of rows) {
      const record = requestLogRecord(row, "0123456789abcdef01234567");
      const direct = requestLogJson(row, "0123456789abcdef01234567");
      assert.equal(direct.json, JSON.stringify(record.entry));
      assert.equal(direct.timestamp, record.timestamp);
      assert.equal(direct.logName, record.logName);
    }
  });
});
