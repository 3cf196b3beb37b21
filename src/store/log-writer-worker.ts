// Runs in a worker thread: appends log entries to the SQLite file over its own connection, so that the disk
// sync of a log batch never blocks the event loop that serves requests. Request logs arrive as compact rows
// and are expanded into LogEntries here, off the thread that serves requests.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { applyPragmas } from "./sqlite-db.js";
import type { LogEntryRecord } from "./store.js";
import { requestLogJson, type RequestLogRow } from "./request-log-row.js";
import { createHexPool } from "../core/ids.js";

export type LogWriterRequest =
  { id: number; records: LogEntryRecord[] } | { id: number; requests: RequestLogRow[] } | "close";
export type LogWriterReply = { id: number; error?: string } | "closed";

// The main thread has created and migrated the file before starting this thread.
const db = new Database((workerData as { file: string }).file);
applyPragmas(db);
const insert = db.prepare("INSERT INTO log_entries (timestamp, log_name, entry) VALUES (?, ?, ?)");
const insertIds = createHexPool();
const appendAll = db.transaction((records: LogEntryRecord[]) => {
  for (const r of records) insert.run(r.timestamp, r.logName, JSON.stringify(r.entry));
});
const appendRequests = db.transaction((rows: RequestLogRow[]) => {
  for (const row of rows) {
    const r = requestLogJson(row, insertIds(12));
    insert.run(r.timestamp, r.logName, r.json);
  }
});
const reply = (message: LogWriterReply) => parentPort?.postMessage(message);

parentPort?.on("message", (message: LogWriterRequest) => {
  if (message === "close") {
    db.close();
    reply("closed");
    return;
  }
  try {
    if ("requests" in message) appendRequests.immediate(message.requests);
    else appendAll.immediate(message.records);
    reply({ id: message.id });
  } catch (error) {
    reply({ id: message.id, error: String(error) });
  }
});
