// Cloud Run request logs (run.googleapis.com%2Frequests), written in batches off the request path. The front
// end queues a flat row per request; the store builds the LogEntry (store/request-log-row.ts).
import type { Store } from "../store/store.js";
import { createBatcher } from "../audit/log-batcher.js";
import type { RequestLogRow } from "../store/request-log-row.js";

export type { RequestLogRow } from "../store/request-log-row.js";
export { requestLogRecord } from "../store/request-log-row.js";

export interface RequestLog {
  write(row: RequestLogRow): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function createRequestLog(store: Store): RequestLog {
  const batcher = createBatcher<RequestLogRow>((batch) => store.appendRequestLogs(batch));
  return {
    write: (row) => batcher.enqueue(row),
    flush: () => batcher.flush(),
    close: () => batcher.close(),
  };
}
