// entries:list stays bounded and answering whatever the filter and the logs hold: a costly filter's page stops
// once its work budget is spent and answers with a nextPageToken (Logging's pages may be short, even empty, when
// a token follows), and a line nested too deeply to walk stays a textPayload instead of failing every read.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { MAX_FILTER_TERMS } from "../../src/core/logging-filter.js";
import type { LogEntryRecord } from "../../src/store/store.js";

type Entry = Record<string, unknown> & { insertId: string; textPayload?: string; jsonPayload?: unknown };
interface Page {
  entries?: Entry[];
  nextPageToken?: string;
  error?: { status: string; message: string };
}

const STDOUT = `projects/${PROJECT}/logs/run.googleapis.com%2Fstdout`;
const SEEDED = 3000;

/** A line an instance wrote to stdout, recorded as the runtime records it (runtime/instance-logs.ts). */
function stdoutLine(textPayload: string, at: number): LogEntryRecord {
  const timestamp = new Date(at).toISOString();
  return {
    timestamp,
    logName: STDOUT,
    entry: {
      logName: STDOUT,
      textPayload,
      timestamp,
      receiveTimestamp: timestamp,
      severity: "INFO",
      insertId: randomBytes(8).toString("hex"),
      labels: { instanceId: "00f1" },
      resource: {
        type: "cloud_run_revision",
        labels: {
          project_id: PROJECT,
          service_name: "worker",
          revision_name: "worker-00001-abc",
          location: "us-central1",
          configuration_name: "worker",
        },
      },
    },
  };
}

describe("entries:list limits", () => {
  let rg: TestRunguard;
  let token: string;
  const list = async (body: Record<string, unknown>) => {
    const response = await fetch(`${rg.endpoints.api}/v2/entries:list`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ resourceNames: [`projects/${PROJECT}`], ...body }),
    });
    return { status: response.status, json: (await response.json()) as Page };
  };

  before(async () => {
    rg = await startTestRunguard();
    token = await rg.accessTokenFor(`user:${OWNER}`);
    const start = Date.parse("2026-06-01T12:00:00.000Z");
    const lines: LogEntryRecord[] = [];
    for (let i = 0; i < SEEDED; i++)
      lines.push(stdoutLine(`request ${i} handled in ${i % 97} ms by worker`, start + i));
    lines.push(stdoutLine("needle-at-the-end", start + SEEDED));
    await rg.platform.store.appendLogs(lines);
  });
  after(async () => rg?.stop());

  it("a filter of many words answers in short pages with nextPageToken once a page's work budget is spent", async () => {
    // Each word searches every field of every entry: 200 of them over 3,001 entries is more than one page's work.
    const words = Array.from({ length: MAX_FILTER_TERMS - 1 }, (_, i) => `"zq${i}x"`);
    const filter = [...words, '"needle-at-the-end"'].join(" OR ");
    let pageToken: string | undefined;
    let pages = 0;
    let earlyPages = 0;
    const found: Entry[] = [];
    do {
      const page = await list({ filter, pageSize: 1000, ...(pageToken ? { pageToken } : {}) });
      assert.equal(page.status, 200, JSON.stringify(page.json));
      pages += 1;
      found.push(...(page.json.entries ?? []));
      pageToken = page.json.nextPageToken;
      // A page that stops before its 1,000 entries and before the 20,000-entry scan cap did so on its budget.
      if (pageToken && (page.json.entries ?? []).length < 1000) earlyPages += 1;
      assert.ok(pages < 100, "paging ends");
    } while (pageToken);
    assert.ok(earlyPages >= 1, `the first page stopped on its work budget (${pages} pages)`);
    assert.deepEqual(
      found.map((entry) => entry.textPayload),
      ["needle-at-the-end"],
      "paging through the short pages still finds every match, once",
    );
  });

  it("the same entries with a cheap filter come in one page", async () => {
    const page = await list({ filter: '"needle-at-the-end"', pageSize: 1000 });
    assert.equal(page.status, 200);
    assert.equal(page.json.entries?.length, 1);
    assert.equal(page.json.nextPageToken, undefined);
  });

  it(`a filter of more than ${MAX_FILTER_TERMS} terms is INVALID_ARGUMENT`, async () => {
    const filter = Array.from({ length: MAX_FILTER_TERMS + 1 }, () => '"zzqx"').join(" OR ");
    const page = await list({ filter });
    assert.equal(page.status, 400);
    assert.equal(page.json.error?.status, "INVALID_ARGUMENT");
    assert.match(page.json.error?.message ?? "", /at most 200 are allowed/);
  });

  it("a stdout line of JSON nested deeper than 64 levels stays textPayload, and reads keep answering", async () => {
    const deep = `{"a":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
    const shallow = `{"message":"shallow",${'"n":{'.repeat(60)}"x":1${"}".repeat(60)}}`;
    const at = Date.parse("2026-06-02T12:00:00.000Z");
    await rg.platform.store.appendLogs([stdoutLine(deep, at), stdoutLine(shallow, at + 1)]);
    const window = 'timestamp>="2026-06-02T00:00:00Z"';
    for (const filter of [window, `${window} "deep-word"`, `${window} jsonPayload.message:shallow`]) {
      const page = await list({ filter, pageSize: 10 });
      assert.equal(page.status, 200, `${filter}: ${JSON.stringify(page.json).slice(0, 200)}`);
    }
    const page = await list({ filter: window, pageSize: 10 });
    const [deepEntry, shallowEntry] = page.json.entries ?? [];
    assert.equal(deepEntry?.textPayload, deep);
    assert.equal(deepEntry?.jsonPayload, undefined);
    assert.equal((shallowEntry?.jsonPayload as { message?: string } | undefined)?.message, "shallow");
    const everything = await list({ pageSize: 1000, orderBy: "timestamp desc" });
    assert.equal(everything.status, 200);
  });
});
