// Writes log entries off the request path: callers enqueue, a timer flushes in order. Losing the last
// fraction of a second of request logs on kill -9 is acceptable; blocking requests on disk writes is not.
export interface Batcher<T> {
  enqueue(item: T): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Batches any items for a sink that writes a whole batch at once (one transaction). Batches go out every
 * `flushEveryMs` or as soon as `maxBatch` items wait, whichever comes first: small, even batches keep the
 * writer's CPU bursts short, which on a small machine is what keeps the front end's latency tail short.
 */
export function createBatcher<T>(sink: (batch: T[]) => Promise<void>, flushEveryMs = 10, maxBatch = 32): Batcher<T> {
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
    enqueue: (item) => {
      if (queue.push(item) >= maxBatch) void flush();
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
