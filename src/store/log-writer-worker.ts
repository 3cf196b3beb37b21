// Runs in a worker thread: appends log entries to the SQLite file over its own connection, so that the disk
// sync of a log batch never blocks the event loop that serves requests. Request logs arrive as compact rows
// and are stored a batch per table row (expanded into LogEntries when read).
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { applyPragmas } from "./sqlite-db.js";
import type { LogEntryRecord } from "./store.js";
import {
  REQUEST_COLUMNS_FORMAT,
  encodeRequestColumns,
  groupByProject,
  requestLogName,
  type RequestLogRow,
} from "./request-log-row.js";
import { toRfc3339 } from "../core/clock.js";
import { createRequestBatchWriter } from "./request-batch-writer.js";

export type LogWriterRequest =
  { id: number; records: LogEntryRecord[] } | { requests: RequestLogRow[] } | { id: number; sync: true } | "close";
/** Answers, and an unasked report of request rows given up on (never written). */
export type LogWriterReply = { id: number; error?: string } | { lost: number; error: string } | "closed";
export interface LogWriterOptions {
  file: string;
  /** How long a write waits for a lock held elsewhere before it counts as failed (SQLite's busy_timeout). */
  busyTimeoutMs?: number;
  /** How long request rows that could not be written yet are retried before they are given up on. */
  retryForMs?: number;
}

const options = workerData as LogWriterOptions;
// The main thread has created and migrated the file before starting this thread.
const db = new Database(options.file);
applyPragmas(db);
if (options.busyTimeoutMs !== undefined) db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
const insert = db.prepare("INSERT INTO log_entries (timestamp, log_name, entry) VALUES (?, ?, ?)");
const insertBatch = db.prepare(
  `INSERT INTO log_entries (timestamp, log_name, entry, format) VALUES (?, ?, ?, ${REQUEST_COLUMNS_FORMAT})`,
);
const appendAll = db.transaction((records: LogEntryRecord[]) => {
  for (const r of records) insert.run(r.timestamp, r.logName, JSON.stringify(r.entry));
});
const appendRequests = db.transaction((rows: RequestLogRow[]) => {
  for (const group of groupByProject(rows)) {
    const latest = group.reduce((max, row) => Math.max(max, row[0]), 0);
    insertBatch.run(toRfc3339(latest), requestLogName(group[0]?.[1] ?? ""), encodeRequestColumns(group));
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

parentPort?.on("message", (message: LogWriterRequest) => {
  if (message === "close") {
    requestBatches.giveUp();
    db.close();
    reply("closed");
    return;
  }
  if ("requests" in message) return requestBatches.add(message.requests);
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
