// Cloud Run request logs (run.googleapis.com%2Frequests), written in batches off the request path. The front
// end queues one row per request; the LogEntry is made of it only when logs are read (store/request-log-entry.ts).
import type { RequestLogRow, Store } from "../store/store.js";
import { createBatcher } from "../audit/log-batcher.js";

export interface RequestLog {
  write(row: RequestLogRow): void;
  /**
   * A request refused before Cloud Run would log it (ingress, IAP): stored marked `unlogged`, so that
   * `runguard logs --denied` lists it and the Logging API does not, and shown to whoever watches live.
   */
  refusedUnlogged(row: RequestLogRow): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Told of every row as the front end answers, stored or not. Called on the request path: it must only queue
 * (and never throw).
 */
export type RequestWatcher = (row: RequestLogRow, stored: boolean) => void;

export function createRequestLog(store: Pick<Store, "appendRequestLogs">, watch?: RequestWatcher): RequestLog {
  const batcher = createBatcher<RequestLogRow>((batch) => store.appendRequestLogs(batch));
  return {
    write: watch
      ? (row) => {
          batcher.enqueue(row);
          watch(row, true);
        }
      : (row) => batcher.enqueue(row),
    refusedUnlogged: (row) => {
      batcher.enqueue({ ...row, unlogged: true });
      watch?.(row, false);
    },
    flush: () => batcher.flush(),
    close: () => batcher.close(),
  };
}
