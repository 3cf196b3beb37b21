// Cloud Run request logs (run.googleapis.com%2Frequests), written in batches off the request path.
import type { Store, LogEntryRecord } from "../store/store.js";
import type { RoutedService } from "./directory.js";
import { toRfc3339 } from "../core/clock.js";
import { createLogBatcher } from "../audit/log-batcher.js";
import { createHexPool } from "../core/ids.js";

export interface RequestLogInput {
  service: RoutedService;
  method: string;
  url: string;
  status: number;
  latencyMs: number;
  requestSize: number;
  responseSize?: number;
  userAgent?: string;
  remoteIp: string;
  trace?: string;
  principalEmail?: string;
  textPayload?: string;
  timestampMs: number;
}

export interface RequestLog {
  write(input: RequestLogInput): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

function severityOf(status: number, hasText: boolean): string {
  if (status >= 500) return "ERROR";
  if (hasText || status >= 400) return "WARNING";
  return "INFO";
}

export function buildRequestLogEntry(input: RequestLogInput, insertId: string): LogEntryRecord {
  const { service } = input;
  const timestamp = toRfc3339(input.timestampMs);
  const logName = `projects/${service.projectId}/logs/run.googleapis.com%2Frequests`;
  const revisionName = service.revision?.split("/").pop() ?? "";
  const traceId = input.trace?.split("/")[0];
  return {
    timestamp,
    logName,
    entry: {
      httpRequest: {
        requestMethod: input.method,
        requestUrl: input.url,
        requestSize: String(input.requestSize),
        status: input.status,
        ...(input.responseSize === undefined ? {} : { responseSize: String(input.responseSize) }),
        ...(input.userAgent ? { userAgent: input.userAgent } : {}),
        remoteIp: input.remoteIp,
        latency: `${(input.latencyMs / 1000).toFixed(6)}s`,
        protocol: "HTTP/1.1",
      },
      insertId,
      logName,
      receiveTimestamp: timestamp,
      resource: {
        type: "cloud_run_revision",
        labels: {
          project_id: service.projectId,
          service_name: service.name,
          revision_name: revisionName,
          location: service.region,
          configuration_name: service.name,
        },
      },
      severity: severityOf(input.status, input.textPayload !== undefined),
      ...(input.textPayload ? { textPayload: input.textPayload } : {}),
      ...(input.principalEmail ? { labels: { "runguard.dev/principal": input.principalEmail } } : {}),
      timestamp,
      ...(traceId ? { trace: `projects/${service.projectId}/traces/${traceId}` } : {}),
    },
  };
}

export function createRequestLog(store: Store): RequestLog {
  const batcher = createLogBatcher(store);
  const randomHex = createHexPool();
  return {
    write: (input) => batcher.enqueue(buildRequestLogEntry(input, randomHex(12))),
    flush: () => batcher.flush(),
    close: () => batcher.close(),
  };
}
