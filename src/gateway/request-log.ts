// Cloud Run request logs (run.googleapis.com%2Frequests), written in batches off the request path. The front
// end queues one row per request; the LogEntry is made of it only when logs are read (store/request-log-entry.ts).
import type { RequestLogRow, Store } from "../store/store.js";
import { createBatcher } from "../audit/log-batcher.js";

export interface RequestLog {
  write(row: RequestLogRow): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function createRequestLog(store: Pick<Store, "appendRequestLogs">): RequestLog {
  const batcher = createBatcher<RequestLogRow>((batch) => store.appendRequestLogs(batch));
  return {
    write: (row) => batcher.enqueue(row),
    flush: () => batcher.flush(),
    close: () => batcher.close(),
  };
}
