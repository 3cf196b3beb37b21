// Writes log entries off the request path: callers enqueue, a timer flushes in order. Losing the last
// fraction of a second of request logs on kill -9 is acceptable; blocking requests on disk writes is not.
import type { LogEntryRecord, Store } from "../store/store.js";

export interface Batcher<T> {
  enqueue(item: T): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export type LogBatcher = Batcher<LogEntryRecord>;

/** Batches any items for a sink that writes a whole batch at once (one transaction, one disk sync). */
export function createBatcher<T>(sink: (batch: T[]) => Promise<void>, flushEveryMs = 50): Batcher<T> {
  let queue: T[] = [];
  let chain: Promise<void> = Promise.resolve();
  const flush = () => {
    const batch = queue;
    queue = [];
    if (batch.length > 0) {
      chain = chain.then(async () => {
        await sink(batch).catch(() => undefined);
      });
    }
    return chain;
  };
  const timer = setInterval(() => void flush(), flushEveryMs);
  timer.unref();
  return {
    enqueue: (item) => void queue.push(item),
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

export function createLogBatcher(store: Store, flushEveryMs = 50): LogBatcher {
  return createBatcher((batch) => store.appendLogs(batch), flushEveryMs);
}
