// The main-thread side of the log writer thread: an append resolves once its entries are durably written.
import { Worker } from "node:worker_threads";
import type { LogWriterOptions, LogWriterReply, LogWriterRequest } from "./log-writer-worker.js";
import type { LogEntryRecord, RequestLogRow } from "./store.js";

export interface LogWriter {
  append(records: readonly LogEntryRecord[]): Promise<void>;
  /**
   * Request log rows, stored by the thread. Nothing answers each batch (an answer per
   * batch cost the front end's event loop about 8 µs per request): sync() waits for them. A batch that cannot
   * be written yet is retried; rows given up on are reported to onLost as it happens and fail the next sync().
   */
  appendRequests(rows: readonly RequestLogRow[]): void;
  /** Resolves once everything appended before it is written or given up on; rejects if rows were lost since. */
  sync(): Promise<void>;
  /** Enforces the request log retention now (it also runs every retention.checkEveryMs). */
  retain(): Promise<void>;
  /** Resolves after every append already made has been written (or failed). */
  close(): Promise<void>;
}

export interface StartLogWriterOptions extends Omit<LogWriterOptions, "file"> {
  /** Told of request log rows that will never be written; by default a process warning (on stderr). */
  onLost?: (rows: number, error: string) => void;
}

export const LOST_ROWS_WARNING = "RUNGUARD_REQUEST_LOGS_LOST";

function warnLost(rows: number, error: string): void {
  process.emitWarning(`${rows} request log entries could not be written and were dropped: ${error}`, {
    code: LOST_ROWS_WARNING,
  });
}

export function startLogWriter(file: string, options: StartLogWriterOptions = {}): LogWriter {
  const { onLost = warnLost, ...threadOptions } = options;
  const workerData: LogWriterOptions = { file, ...threadOptions };
  const worker = new Worker(new URL("./log-writer-worker.js", import.meta.url), { workerData });
  // An idle log writer must not keep the process alive; close() refs it again while it drains.
  worker.unref();
  const pending = new Map<number, { resolve(): void; reject(error: Error): void }>();
  let next = 0;
  let stopped: Error | undefined;
  let closing = false;
  let closed: Promise<void> | undefined;
  // Once the thread is gone nothing will ever answer, so waiting appends fail instead of hanging.
  const stop = (error: Error) => {
    stopped ??= error;
    for (const waiter of pending.values()) waiter.reject(stopped);
    pending.clear();
  };
  const drained = new Promise<void>((resolve) => {
    worker.on("message", (message: LogWriterReply) => {
      if (message === "closed") return resolve();
      if ("lost" in message) return onLost(message.lost, message.error);
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(`Writing logs failed: ${message.error}`));
      else waiter?.resolve();
    });
    worker.on("error", (error) => stop(error));
    worker.on("exit", () => {
      stop(new Error("The log writer thread has stopped."));
      resolve();
    });
  });
  const send = (message: LogWriterRequest) => worker.postMessage(message);
  const submit = (count: number, message: (id: number) => LogWriterRequest): Promise<void> => {
    if (count === 0) return Promise.resolve();
    if (stopped) return Promise.reject(stopped);
    const id = ++next;
    return new Promise<void>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      try {
        send(message(id));
      } catch (error) {
        pending.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  };
  return {
    append: (records) => submit(records.length, (id) => ({ id, records: [...records] })),
    appendRequests: (rows) => {
      if (rows.length === 0) return;
      if (closing || stopped) return onLost(rows.length, (stopped ?? new Error("The log writer is closing.")).message);
      send({ requests: rows as RequestLogRow[] });
    },
    sync: () => submit(1, (id) => ({ id, sync: true })),
    retain: () => submit(1, (id) => ({ id, retain: true })),
    close() {
      closed ??= (async () => {
        closing = true;
        if (!stopped) {
          worker.ref();
          // The thread handles messages in order, so "close" runs after every batch already sent.
          send("close");
          await drained;
        }
        stop(new Error("The log writer is closed."));
        await worker.terminate();
      })();
      return closed;
    },
  };
}
