// The retry logic alone, with a write function that fails as SQLite does (errors carrying SQLITE_* codes); the
// log writer thread's tests (log-writer.test.ts) hold a real lock on a real database.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequestBatchWriter, type RequestBatchWriterOptions } from "./request-batch-writer.js";
import type { RequestLogRow } from "./store.js";

const rowAt = (path: string) => ({ timestampMs: 0, projectId: "p", url: path }) as RequestLogRow;
const pathsOf = (rows: RequestLogRow[]) => rows.map((r) => r.url);
const busy = () => Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });

function harness(failFirst: number, options: Partial<RequestBatchWriterOptions> = {}) {
  const written: string[] = [];
  const lost: Array<[number, string]> = [];
  let calls = 0;
  const writer = createRequestBatchWriter({
    write: (rows) => {
      if (++calls <= failFirst) throw busy();
      written.push(...pathsOf(rows));
    },
    reportLost: (rows, error) => lost.push([rows, error]),
    retryForMs: 10_000,
    retryEveryMs: 5,
    ...options,
  });
  const settled = () => new Promise<string | undefined>((resolve) => writer.whenSettled(resolve));
  return { writer, written, lost, settled };
}

describe("request batch writer", () => {
  it("keeps a batch met by a passing failure, and every batch after it, in order, until writes succeed", async () => {
    const { writer, written, lost, settled } = harness(3);
    writer.add([rowAt("/1")]);
    writer.add([rowAt("/2"), rowAt("/3")]);
    writer.add([rowAt("/4")]);
    assert.deepEqual(written, [], "nothing is written past a batch still waiting");
    assert.equal(await settled(), undefined);
    assert.deepEqual(written, ["/1", "/2", "/3", "/4"]);
    assert.deepEqual(lost, []);
  });

  it("loses the newest batch, and says so, when more than maxWaitingRows would wait", async () => {
    const { writer, written, lost, settled } = harness(2, { maxWaitingRows: 3 });
    writer.add([rowAt("/1"), rowAt("/2")]);
    writer.add([rowAt("/3"), rowAt("/4")]);
    assert.equal(lost.length, 1);
    assert.equal(lost[0]?.[0], 2);
    assert.match(lost[0]?.[1] ?? "", /database is locked \(too many rows waiting\)/);
    assert.match((await settled()) ?? "", /too many rows waiting/);
    assert.deepEqual(written, ["/1", "/2"]);
  });

  it("on giving up, makes a last attempt, loses what still fails and settles whoever waits", async () => {
    const { writer, lost, settled } = harness(Number.POSITIVE_INFINITY);
    writer.add([rowAt("/1"), rowAt("/2"), rowAt("/3")]);
    const waiting = settled();
    writer.giveUp();
    assert.match((await waiting) ?? "", /database is locked/);
    assert.deepEqual(
      lost.map(([rows]) => rows),
      [3],
    );
  });

  it("writes a batch that fails for what it holds row by row, losing only the bad row, once", async () => {
    const written: string[] = [];
    const lost: Array<[number, string]> = [];
    const writer = createRequestBatchWriter({
      write: (rows) => {
        if (pathsOf(rows).includes("/bad")) throw new RangeError("Invalid time value");
        written.push(...pathsOf(rows));
      },
      reportLost: (rows, error) => lost.push([rows, error]),
      retryForMs: 1_000,
    });
    writer.add([rowAt("/1"), rowAt("/bad"), rowAt("/2")]);
    const first = await new Promise((resolve) => writer.whenSettled(resolve));
    const second = await new Promise((resolve) => writer.whenSettled(resolve));
    assert.deepEqual(written, ["/1", "/2"]);
    assert.deepEqual(lost, [[1, "RangeError: Invalid time value"]]);
    assert.equal(first, "RangeError: Invalid time value");
    assert.equal(second, undefined, "a failure is reported to one settlement only");
  });

  it("gives a later passing failure a whole retry window of its own", async () => {
    let clock = 0;
    let calls = 0;
    const written: string[] = [];
    const lost: number[] = [];
    let later: () => void = () => undefined;
    const writer = createRequestBatchWriter({
      write: (rows) => {
        calls++;
        // Call 1 fails at t=0; calls 3 and 4 fail at t=900 and t=1500, within a window starting at t=900.
        if (calls === 1 || calls === 3 || calls === 4) {
          if (calls === 4) clock = 1_500;
          throw busy();
        }
        written.push(...pathsOf(rows));
        if (calls === 5) later();
      },
      reportLost: (rows) => lost.push(rows),
      retryForMs: 1_000,
      retryEveryMs: 1,
      now: () => clock,
    });
    writer.add([rowAt("/a")]);
    await new Promise<void>((resolve) => writer.whenSettled(() => resolve()));
    clock = 900;
    const done = new Promise<void>((resolve) => (later = resolve));
    writer.add([rowAt("/b")]);
    await done;
    assert.deepEqual(written, ["/a", "/b"]);
    assert.deepEqual(lost, []);
  });

  it("answers a settlement once the batches added before it are written, not those added after", async () => {
    let calls = 0;
    const written: string[] = [];
    const writer = createRequestBatchWriter({
      write: (rows) => {
        calls++;
        if (calls <= 2 || pathsOf(rows).includes("/later")) throw busy();
        written.push(...pathsOf(rows));
      },
      reportLost: (rows) => lost.push(rows),
      retryForMs: 10_000,
      retryEveryMs: 5,
    });
    const lost: number[] = [];
    writer.add([rowAt("/first")]);
    const settled = new Promise<string | undefined>((resolve) => writer.whenSettled(resolve));
    writer.add([rowAt("/later")]);
    assert.equal(await settled, undefined);
    assert.deepEqual(written, ["/first"], "answered while the later batch still waits");
    assert.deepEqual(lost, []);
    writer.giveUp();
    assert.deepEqual(lost, [1], "at shutdown, the batch still refused is given up on");
  });

  it("gives up a whole batch in one report when the database itself is unusable", async () => {
    const lost: Array<[number, string]> = [];
    const writer = createRequestBatchWriter({
      write: () => {
        throw Object.assign(new Error("attempt to write a readonly database"), { code: "SQLITE_READONLY" });
      },
      reportLost: (rows, error) => lost.push([rows, error]),
      retryForMs: 1_000,
    });
    writer.add([rowAt("/1"), rowAt("/2"), rowAt("/3")]);
    assert.match((await new Promise<string | undefined>((resolve) => writer.whenSettled(resolve))) ?? "", /readonly/);
    assert.deepEqual(
      lost.map(([rows]) => rows),
      [3],
    );
  });
});
