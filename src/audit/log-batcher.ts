// Writes log entries off the request path: callers enqueue, a timer flushes in order. Losing the last
// fraction of a second of request logs on kill -9 is acceptable; blocking requests on disk writes is not.
import type { LogEntryRecord, Store } from "../store/store.js";

export interface LogBatcher {
  enqueue(record: LogEntryRecord): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function createLogBatcher(store: Store, flushEveryMs = 50): LogBatcher {
  let queue: LogEntryRecord[] = [];
  let chain: Promise<void> = Promise.resolve();
  const flush = () => {
    const batch = queue;
    queue = [];
    if (batch.length > 0) {
      chain = chain.then(async () => {
        await store.appendLogs(batch).catch(() => undefined);
      });
    }
    return chain;
  };
  const timer = setInterval(() => void flush(), flushEveryMs);
  timer.unref();
  return {
    enqueue: (record) => queue.push(record),
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
