// Runs in a worker thread: appends log entries to the SQLite file over its own connection, so that the disk
// sync of a log batch never blocks the event loop that serves requests. Request logs arrive as rows and are
// stored a batch per table row (request-log-format.ts), made into LogEntries when read.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { applyPragmas } from "./sqlite-db.js";
import type { LogEntryRecord, RequestLogRow } from "./store.js";
import { REQUEST_BATCH_FORMAT, encodeRequestBatch, groupByProject } from "./request-log-format.js";
import { requestLogName } from "./request-log-entry.js";
import { toRfc3339 } from "../core/clock.js";
import { createRequestBatchWriter } from "./request-batch-writer.js";

export type LogWriterRequest =
  | { id: number; records: LogEntryRecord[] }
  | { requests: RequestLogRow[] }
  | { id: number; sync: true }
  | { id: number; retain: true }
  | "close";
/** Answers, and an unasked report of request rows given up on (never written). */
export type LogWriterReply = { id: number; error?: string } | { lost: number; error: string } | "closed";
export interface LogWriterOptions {
  file: string;
  /** How long a write waits for a lock held elsewhere before it counts as failed (SQLite's busy_timeout). */
  busyTimeoutMs?: number;
  /** How long request rows that could not be written yet are retried before they are given up on. */
  retryForMs?: number;
  /** Request log retention, enforced by this thread; none when absent. */
  retention?: RequestLogRetention;
}

export interface RequestLogRetention {
  /** Request logs older than this are deleted. */
  maxAgeMs: number;
  /** Past this many stored bytes of request logs, the oldest are deleted (down to 90% of it). */
  maxBytes: number;
  /** How often the limits are enforced. */
  checkEveryMs: number;
}

const options = workerData as LogWriterOptions;
// The main thread has created and migrated the file before starting this thread.
const db = new Database(options.file);
applyPragmas(db);
if (options.busyTimeoutMs !== undefined) db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
const insert = db.prepare("INSERT INTO log_entries (timestamp, log_name, entry) VALUES (?, ?, ?)");
const insertBatch = db.prepare(
  `INSERT INTO log_entries (timestamp, log_name, entry, format) VALUES (?, ?, ?, ${REQUEST_BATCH_FORMAT})`,
);
const appendAll = db.transaction((records: LogEntryRecord[]) => {
  for (const r of records) insert.run(r.timestamp, r.logName, JSON.stringify(r.entry));
});
// What a request log table row counts as against the size limit: its text columns plus the row's own overhead.
const ROW_OVERHEAD_BYTES = 16;
const REQUEST_ROWS = `format = ${REQUEST_BATCH_FORMAT}`; // whole LogEntries (audit logs) are left alone
const ROW_BYTES = `length(entry) + length(log_name) + length(timestamp) + ${ROW_OVERHEAD_BYTES}`;
/** Stored bytes of request logs, counted once at start and kept up to date by every insert and delete. */
let requestBytes = options.retention
  ? ((db.prepare(`SELECT sum(${ROW_BYTES}) FROM log_entries WHERE ${REQUEST_ROWS}`).pluck().get() as number | null) ??
    0)
  : 0;
const appendRequests = db.transaction((rows: RequestLogRow[]) => {
  for (const group of groupByProject(rows)) {
    const latest = toRfc3339(group.reduce((max, row) => Math.max(max, row.timestampMs), 0));
    const logName = requestLogName(group[0]?.projectId ?? "");
    const entry = encodeRequestBatch(group);
    insertBatch.run(latest, logName, entry);
    requestBytes += Buffer.byteLength(entry) + logName.length + latest.length + ROW_OVERHEAD_BYTES;
  }
});
const reply = (message: LogWriterReply) => parentPort?.postMessage(message);

// Request logs are committed without waiting for the disk (WAL with synchronous=NORMAL: a power cut may lose
// the last moments of request logs, never consistency); audit entries keep synchronous=FULL.
const syncFull = db.prepare("PRAGMA synchronous = FULL");
const syncNormal = db.prepare("PRAGMA synchronous = NORMAL");
const requestBatches = createRequestBatchWriter({
  write: (rows) => {
    syncNormal.run();
    appendRequests.immediate(rows);
  },
  reportLost: (lost, error) => reply({ lost, error }),
  retryForMs: options.retryForMs ?? 30_000,
});

// Retention deletes in chunks of rows, one short write transaction each, yielding to queued appends in between,
// so neither the front end (which never waits for this thread) nor a control-plane write waits long.
const RETENTION_CHUNK_ROWS = 1000;
const olderThan = db.prepare(
  `SELECT id, ${ROW_BYTES} AS bytes FROM log_entries WHERE ${REQUEST_ROWS} AND timestamp < ? ORDER BY id LIMIT ${RETENTION_CHUNK_ROWS}`,
);
const oldest = db.prepare(
  `SELECT id, ${ROW_BYTES} AS bytes FROM log_entries WHERE ${REQUEST_ROWS} ORDER BY id LIMIT ${RETENTION_CHUNK_ROWS}`,
);
const deleteRow = db.prepare("DELETE FROM log_entries WHERE id = ?");
const deleteRows = db.transaction((rows: { id: number; bytes: number }[]) => {
  for (const row of rows) {
    deleteRow.run(row.id);
    requestBytes -= row.bytes;
  }
});
const yieldToMessages = () => new Promise<void>((resolve) => setImmediate(resolve));
let retaining: Promise<void> | undefined;
let closing = false;

async function enforceRetention(retention: RequestLogRetention): Promise<void> {
  const cutoff = toRfc3339(Date.now() - retention.maxAgeMs);
  while (!closing) {
    const rows = olderThan.all(cutoff) as { id: number; bytes: number }[];
    if (rows.length === 0) break;
    syncNormal.run();
    deleteRows.immediate(rows);
    await yieldToMessages();
  }
  if (requestBytes <= retention.maxBytes) return;
  const target = retention.maxBytes * 0.9;
  while (requestBytes > target && !closing) {
    const rows = oldest.all() as { id: number; bytes: number }[];
    if (rows.length === 0) break;
    let excess = requestBytes - target;
    const chunk = rows.filter((row) => (excess -= row.bytes) > -row.bytes);
    syncNormal.run();
    deleteRows.immediate(chunk);
    await yieldToMessages();
  }
}

/** One enforcement at a time; a failure is reported as lost nothing, and tried again at the next check. */
function retain(): Promise<void> {
  const retention = options.retention;
  if (!retention) return Promise.resolve();
  retaining ??= enforceRetention(retention).finally(() => (retaining = undefined));
  return retaining;
}

const retentionTimer = options.retention
  ? setInterval(() => void retain().catch(() => undefined), options.retention.checkEveryMs)
  : undefined;
void retain().catch(() => undefined);

parentPort?.on("message", (message: LogWriterRequest) => {
  if (message === "close") {
    closing = true;
    if (retentionTimer) clearInterval(retentionTimer);
    requestBatches.giveUp();
    db.close();
    reply("closed");
    return;
  }
  if ("requests" in message) return requestBatches.add(message.requests);
  if ("retain" in message) {
    retain().then(
      () => reply({ id: message.id }),
      (error: unknown) => reply({ id: message.id, error: String(error) }),
    );
    return;
  }
  if ("sync" in message) {
    requestBatches.whenSettled((failure) =>
      reply(failure === undefined ? { id: message.id } : { id: message.id, error: failure }),
    );
    return;
  }
  try {
    syncFull.run();
    appendAll.immediate(message.records);
    reply({ id: message.id });
  } catch (error) {
    reply({ id: message.id, error: String(error) });
  }
});
