// The main-thread side of the log writer thread: appends resolve once the entries are durably written.
import { Worker } from "node:worker_threads";
import type { LogEntryRecord } from "./store.js";

export interface LogWriter {
  append(records: readonly LogEntryRecord[]): Promise<void>;
  close(): Promise<void>;
}

export function startLogWriter(file: string): LogWriter {
  const worker = new Worker(new URL("./log-writer-worker.js", import.meta.url), { workerData: { file } });
  worker.unref();
  const pending = new Map<number, { resolve(): void; reject(error: Error): void }>();
  let next = 0;
  worker.on("message", (message: { id: number; error?: string } | "closed") => {
    if (message === "closed") return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(message.error));
    else waiter?.resolve();
  });
  worker.on("error", (error) => {
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  });
  return {
    append(records) {
      if (records.length === 0) return Promise.resolve();
      const id = ++next;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, records });
      });
    },
    async close() {
      // Messages are handled in order, so "close" runs after every batch already posted.
      await new Promise<void>((resolve) => {
        worker.once("message", () => resolve());
        worker.once("exit", () => resolve());
        worker.postMessage("close");
      });
      await worker.terminate();
    },
  };
}
