// Runs in a worker thread: appends log entries to the SQLite file over its own connection, so that the disk
// sync of a log batch never blocks the event loop that serves requests.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import type { LogEntryRecord } from "./store.js";

const db = new Database((workerData as { file: string }).file);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
db.pragma("busy_timeout = 5000");
const insert = db.prepare("INSERT INTO log_entries (timestamp, log_name, entry) VALUES (?, ?, ?)");
const appendAll = db.transaction((records: LogEntryRecord[]) => {
  for (const r of records) insert.run(r.timestamp, r.logName, JSON.stringify(r.entry));
});

parentPort?.on("message", (message: { id: number; records: LogEntryRecord[] } | "close") => {
  if (message === "close") {
    db.close();
    parentPort?.postMessage("closed");
    return;
  }
  try {
    appendAll.immediate(message.records);
    parentPort?.postMessage({ id: message.id });
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: String(error) });
  }
});
