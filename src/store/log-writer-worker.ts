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

export type LogWriterRequest =
  { id: number; records: LogEntryRecord[] } | { requests: RequestLogRow[] } | { id: number; sync: true } | "close";
export type LogWriterReply = { id: number; error?: string } | "closed";

// The main thread has created and migrated the file before starting this thread.
const db = new Database((workerData as { file: string }).file);
applyPragmas(db);
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
/** The first failure among request batches since the last sync, which reports it. */
let requestBatchFailure: string | undefined;

// Request logs are committed without waiting for the disk (WAL with synchronous=NORMAL: a power cut may lose
// the last moments of request logs, never consistency); audit entries keep synchronous=FULL.
const syncFull = db.prepare("PRAGMA synchronous = FULL");
const syncNormal = db.prepare("PRAGMA synchronous = NORMAL");

parentPort?.on("message", (message: LogWriterRequest) => {
  if (message === "close") {
    db.close();
    reply("closed");
    return;
  }
  if ("requests" in message) {
    try {
      syncNormal.run();
      appendRequests.immediate(message.requests);
    } catch (error) {
      requestBatchFailure ??= String(error);
    }
    return;
  }
  if ("sync" in message) {
    const failure = requestBatchFailure;
    requestBatchFailure = undefined;
    reply(failure === undefined ? { id: message.id } : { id: message.id, error: failure });
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
