// A request log row as the LogEntry Cloud Run writes to run.googleapis.com%2Frequests. Built only when logs are
// read, so that neither serving a request nor writing its log builds nested log objects.
import { toRfc3339 } from "../core/clock.js";
import type { LogEntryRecord, RequestLogRow } from "./store.js";

/** Labels runguard adds to a request's LogEntry: who called, and why runguard refused the request. */
export const PRINCIPAL_LABEL = "runguard.dev/principal";
export const REASON_LABEL = "runguard.dev/reason";
/** On a refusal Cloud Run would not have logged (ingress, IAP): the Logging API leaves such entries out. */
export const UNLOGGED_LABEL = "runguard.dev/not-in-cloud-logging";

export const requestLogName = (projectId: string) => `projects/${projectId}/logs/run.googleapis.com%2Frequests`;

function severityOf(status: number, hasText: boolean): string {
  if (status >= 500) return "ERROR";
  if (hasText || status >= 400) return "WARNING";
  return "INFO";
}

export function requestLogEntry(row: Readonly<RequestLogRow>, insertId: string): LogEntryRecord {
  const { projectId, serviceName, status, responseSize, userAgent, textPayload, principalEmail } = row;
  const timestamp = toRfc3339(row.timestampMs);
  const logName = requestLogName(projectId);
  const traceId = row.trace?.split("/")[0];
  return {
    timestamp,
    logName,
    entry: {
      httpRequest: {
        requestMethod: row.method,
        requestUrl: row.url,
        requestSize: String(row.requestSize),
        status,
        ...(responseSize === undefined ? {} : { responseSize: String(responseSize) }),
        ...(userAgent ? { userAgent } : {}),
        remoteIp: row.remoteIp,
        latency: `${(row.latencyMs / 1000).toFixed(6)}s`,
        protocol: "HTTP/1.1",
      },
      insertId,
      logName,
      receiveTimestamp: timestamp,
      resource: {
        type: "cloud_run_revision",
        labels: {
          project_id: projectId,
          service_name: serviceName,
          revision_name: row.revision?.split("/").pop() ?? "",
          location: row.region,
          configuration_name: serviceName,
        },
      },
      severity: severityOf(status, textPayload !== undefined),
      ...(textPayload ? { textPayload } : {}),
      ...(principalEmail || row.reason || row.unlogged
        ? {
            labels: {
              ...(principalEmail ? { [PRINCIPAL_LABEL]: principalEmail } : {}),
              ...(row.reason ? { [REASON_LABEL]: row.reason } : {}),
              ...(row.unlogged ? { [UNLOGGED_LABEL]: "true" } : {}),
            },
          }
        : {}),
      timestamp,
      ...(traceId ? { trace: `projects/${projectId}/traces/${traceId}` } : {}),
    },
  };
}
