// Runs in a worker thread: appends log entries to the SQLite file over its own connection, so that the disk
// sync of a log batch never blocks the event loop that serves requests. Request logs arrive as rows and are
// stored a batch per table row (request-log-format.ts), made into LogEntries when read. Request logs and instance
// logs (stdout, stderr, and what runguard says about an instance) are deleted past the retention limits.
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
  /** Retention of request logs and instance logs, enforced by this thread; none when absent. */
  retention?: LogRetention;
}

export interface LogRetention {
  /** Request logs and instance logs older than this are deleted. */
  maxAgeMs: number;
  /** Past this many stored bytes of request logs, the oldest are deleted (down to 90% of it); the same for
   * instance logs, counted apart so that a noisy instance never deletes request logs. */
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
// What a log table row counts as against the size limit: its text columns plus the row's own overhead.
const ROW_OVERHEAD_BYTES = 16;
const ROW_BYTES = `length(entry) + length(log_name) + length(timestamp) + ${ROW_OVERHEAD_BYTES}`;
const REQUEST_ROWS = `format = ${REQUEST_BATCH_FORMAT}`;
/** The logs of instances: whole LogEntries, as audit logs are kept; audit logs are left alone. */
const INSTANCE_LOGS = ["stdout", "stderr", "varlog%2Fsystem"];
const INSTANCE_ROWS = `format = 0 AND (${INSTANCE_LOGS.map((log) => `log_name GLOB '*/logs/run.googleapis.com%2F${log}'`).join(" OR ")})`;
const INSTANCE_LOG_NAME = new RegExp(`/logs/run\\.googleapis\\.com%2F(${INSTANCE_LOGS.join("|")})$`);

/** Rows under one retention budget, their stored bytes counted once at start and kept up to date. */
interface RetainedRows {
  bytes: number;
  olderThan: Database.Statement;
  oldest: Database.Statement;
  deleteRows: Database.Transaction<(rows: { id: number; bytes: number }[]) => void>;
}
// Retention deletes in chunks of rows, one short write transaction each, yielding to queued appends in between,
// so neither the front end (which never waits for this thread) nor a control-plane write waits long.
const RETENTION_CHUNK_ROWS = 1000;
const deleteRow = db.prepare("DELETE FROM log_entries WHERE id = ?");
function retainedRows(where: string): RetainedRows {
  const rows: RetainedRows = {
    bytes: 0,
    olderThan: db.prepare(
      `SELECT id, ${ROW_BYTES} AS bytes FROM log_entries WHERE ${where} AND timestamp < ? ORDER BY id LIMIT ${RETENTION_CHUNK_ROWS}`,
    ),
    oldest: db.prepare(
      `SELECT id, ${ROW_BYTES} AS bytes FROM log_entries WHERE ${where} ORDER BY id LIMIT ${RETENTION_CHUNK_ROWS}`,
    ),
    deleteRows: db.transaction((chunk: { id: number; bytes: number }[]) => {
      for (const row of chunk) {
        deleteRow.run(row.id);
        rows.bytes -= row.bytes;
      }
    }),
  };
  return rows;
}
const requestLogs = retainedRows(REQUEST_ROWS);
const instanceLogs = retainedRows(INSTANCE_ROWS);
if (options.retention) {
  const sums = db
    .prepare(
      `SELECT sum(CASE WHEN ${REQUEST_ROWS} THEN ${ROW_BYTES} END) AS requests,
              sum(CASE WHEN ${INSTANCE_ROWS} THEN ${ROW_BYTES} END) AS instances FROM log_entries`,
    )
    .get() as { requests: number | null; instances: number | null };
  requestLogs.bytes = sums.requests ?? 0;
  instanceLogs.bytes = sums.instances ?? 0;
}

/** Returns the stored bytes of the instance logs among the records. */
const appendAll = db.transaction((records: LogEntryRecord[]) => {
  let instanceBytes = 0;
  for (const r of records) {
    const entry = JSON.stringify(r.entry);
    insert.run(r.timestamp, r.logName, entry);
    if (INSTANCE_LOG_NAME.test(r.logName))
      instanceBytes += entry.length + r.logName.length + r.timestamp.length + ROW_OVERHEAD_BYTES;
  }
  return instanceBytes;
});
const appendRequests = db.transaction((rows: RequestLogRow[]) => {
  for (const group of groupByProject(rows)) {
    const latest = toRfc3339(group.reduce((max, row) => Math.max(max, row.timestampMs), 0));
    const logName = requestLogName(group[0]?.projectId ?? "");
    const entry = encodeRequestBatch(group);
    insertBatch.run(latest, logName, entry);
    requestLogs.bytes += Buffer.byteLength(entry) + logName.length + latest.length + ROW_OVERHEAD_BYTES;
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

const yieldToMessages = () => new Promise<void>((resolve) => setImmediate(resolve));
let retaining: Promise<void> | undefined;
let closing = false;

async function enforceRetention(retention: LogRetention): Promise<void> {
  for (const retained of [requestLogs, instanceLogs]) await enforceOn(retained, retention);
}

async function enforceOn(retained: RetainedRows, retention: LogRetention): Promise<void> {
  const cutoff = toRfc3339(Date.now() - retention.maxAgeMs);
  while (!closing) {
    const rows = retained.olderThan.all(cutoff) as { id: number; bytes: number }[];
    if (rows.length === 0) break;
    syncNormal.run();
    retained.deleteRows.immediate(rows);
    await yieldToMessages();
  }
  if (retained.bytes <= retention.maxBytes) return;
  const target = retention.maxBytes * 0.9;
  while (retained.bytes > target && !closing) {
    const rows = retained.oldest.all() as { id: number; bytes: number }[];
    if (rows.length === 0) break;
    let excess = retained.bytes - target;
    const chunk = rows.filter((row) => (excess -= row.bytes) > -row.bytes);
    syncNormal.run();
    retained.deleteRows.immediate(chunk);
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
    // Instance logs, like request logs, do not wait for the disk; audit entries do.
    if (message.records.every((record) => INSTANCE_LOG_NAME.test(record.logName))) syncNormal.run();
    else syncFull.run();
    instanceLogs.bytes += appendAll.immediate(message.records);
    reply({ id: message.id });
  } catch (error) {
    reply({ id: message.id, error: String(error) });
  }
});
