// How the terminal decides on colour and words a request line.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  COLOURS,
  PLAIN,
  formatLatency,
  formatRequest,
  memberOfEmail,
  printableOutput,
  wantsColour,
} from "./terminal.js";
import { formatRecord } from "./logs.js";
import type { RequestLogRow } from "../store/store.js";

const row: RequestLogRow = {
  timestampMs: Date.UTC(2026, 5, 1, 14, 2, 19),
  projectId: "p",
  serviceName: "orders-api",
  region: "us-central1",
  revision: undefined,
  method: "GET",
  url: "https://orders-api-1.us-central1.run.app/x?y=1",
  status: 403,
  latencyMs: 2,
  requestSize: 0,
  responseSize: 10,
  userAgent: undefined,
  remoteIp: "127.0.0.1",
  principalEmail: "bob@example.com",
  textPayload: "The request was not authorized to invoke this service.",
  trace: undefined,
  reason: "user:bob@example.com lacks run.routes.invoke",
};

describe("terminal", () => {
  it("colours only a TTY, never with NO_COLOR, and any output with FORCE_COLOR", () => {
    assert.equal(wantsColour({}, true), true);
    assert.equal(wantsColour({}, false), false);
    assert.equal(wantsColour({ NO_COLOR: "1" }, true), false);
    assert.equal(wantsColour({ NO_COLOR: "" }, true), true);
    assert.equal(wantsColour({ FORCE_COLOR: "1" }, false), true);
    assert.equal(wantsColour({ FORCE_COLOR: "0" }, false), false);
    assert.equal(wantsColour({ FORCE_COLOR: "1", NO_COLOR: "1" }, true), false);
  });

  it("words a request: time, status, service, method, path, principal, latency, then runguard's reason", () => {
    const line = formatRequest(row, PLAIN);
    assert.match(line, /^\d\d:\d\d:\d\d 403 orders-api GET \/x\?y=1 user:bob@example\.com 2 ms {2}user:bob/);
    assert.match(formatRequest(row, COLOURS), /\x1b\[33m403\x1b\[0m/); // eslint-disable-line no-control-regex
    const sa = formatRequest({ ...row, principalEmail: "api@p.iam.gserviceaccount.com", reason: undefined }, PLAIN);
    assert.match(sa, / serviceAccount:api@p\.iam\.gserviceaccount\.com 2 ms$/);
    assert.equal(memberOfEmail(undefined), "-");
  });

  it("prints what came from the network without control characters", () => {
    const hostile = formatRequest({ ...row, method: "G\x1b[2JET", url: "https://h/a\x1b]0;x\x07b" }, PLAIN);
    assert.doesNotMatch(hostile, /\x1b|\x07/); // eslint-disable-line no-control-regex
    assert.match(hostile, / G\?\[2JET \/a\?\]0;x\?b /);
  });

  it("prints an instance's output and stored payloads without control characters, tabs kept", () => {
    const hostile = "a\tb\x1b]52;c;cHduZWQ=\x07\x1b[2J\x9b31m\r\n";
    const shown = printableOutput(hostile);
    assert.doesNotMatch(shown, /[\x00-\x08\x0a-\x1f\x7f-\x9f]/); // eslint-disable-line no-control-regex
    assert.equal(shown, "a\tb?]52;c;cHduZWQ=??[2J?31m??");
    const record = formatRecord({
      timestamp: "2026-12-06T00:00:00Z",
      logName: "projects/p/logs/run.googleapis.com%2Fstdout",
      entry: { textPayload: hostile, resource: { labels: { service_name: "api" } } },
    } as never);
    assert.doesNotMatch(record, /\x1b|\x07|\x9b/); // eslint-disable-line no-control-regex
    const structured = formatRecord({
      timestamp: "2026-12-06T00:00:00Z",
      logName: "projects/p/logs/run.googleapis.com%2Fstdout",
      entry: { jsonPayload: { message: "\x9b2J" }, resource: { labels: { service_name: "api" } } },
    } as never);
    assert.match(structured, /\[api\] {2}\{"message":"\?2J"\}$/);
  });

  it("says latency in whole milliseconds, and under one as <1 ms", () => {
    assert.equal(formatLatency(0), "<1 ms");
    assert.equal(formatLatency(3), "3 ms");
    assert.equal(formatLatency(2.5), "2.5 ms");
    assert.equal(formatLatency(1412.4), "1412 ms");
  });
});
