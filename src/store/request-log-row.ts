// A Cloud Run request log entry (run.googleapis.com%2Frequests) in compact form: the front end queues one flat
// tuple per request, and the store expands it into the LogEntry off the request path (in the log writer
// thread for the SQLite store), so that serving a request allocates no nested log objects.
import { toRfc3339 } from "../core/clock.js";
import type { LogEntryRecord } from "./store.js";

export type RequestLogRow = [
  timestampMs: number,
  projectId: string,
  serviceName: string,
  region: string,
  /** The revision's resource name, if the service has one. */
  revision: string | undefined,
  method: string,
  url: string,
  status: number,
  latencyMs: number,
  requestSize: number,
  responseSize: number | undefined,
  userAgent: string | undefined,
  remoteIp: string,
  principalEmail: string | undefined,
  textPayload: string | undefined,
  trace: string | undefined,
];

function severityOf(status: number, hasText: boolean): string {
  if (status >= 500) return "ERROR";
  if (hasText || status >= 400) return "WARNING";
  return "INFO";
}

export function requestLogRecord(row: Readonly<RequestLogRow>, insertId: string): LogEntryRecord {
  const [
    timestampMs,
    projectId,
    serviceName,
    region,
    revision,
    method,
    url,
    status,
    latencyMs,
    requestSize,
    responseSize,
    userAgent,
    remoteIp,
    principalEmail,
    textPayload,
    trace,
  ] = row;
  const timestamp = toRfc3339(timestampMs);
  const logName = `projects/${projectId}/logs/run.googleapis.com%2Frequests`;
  const revisionName = revision?.split("/").pop() ?? "";
  const traceId = trace?.split("/")[0];
  return {
    timestamp,
    logName,
    entry: {
      httpRequest: {
        requestMethod: method,
        requestUrl: url,
        requestSize: String(requestSize),
        status,
        ...(responseSize === undefined ? {} : { responseSize: String(responseSize) }),
        ...(userAgent ? { userAgent } : {}),
        remoteIp,
        latency: `${(latencyMs / 1000).toFixed(6)}s`,
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
          revision_name: revisionName,
          location: region,
          configuration_name: serviceName,
        },
      },
      severity: severityOf(status, textPayload !== undefined),
      ...(textPayload ? { textPayload } : {}),
      ...(principalEmail ? { labels: { "runguard.dev/principal": principalEmail } } : {}),
      timestamp,
      ...(traceId ? { trace: `projects/${projectId}/traces/${traceId}` } : {}),
    },
  };
}

const json = JSON.stringify;

/**
 * requestLogRecord with the entry already serialized: the same JSON text as JSON.stringify(record.entry),
 * written directly so that the log writer thread allocates no entry objects (request-log-row.test.ts).
 */
export function requestLogJson(
  row: Readonly<RequestLogRow>,
  insertId: string,
): { timestamp: string; logName: string; json: string } {
  const [
    timestampMs,
    projectId,
    serviceName,
    region,
    revision,
    method,
    url,
    status,
    latencyMs,
    requestSize,
    responseSize,
    userAgent,
    remoteIp,
    principalEmail,
    textPayload,
    trace,
  ] = row;
  const timestamp = toRfc3339(timestampMs);
  const logName = `projects/${projectId}/logs/run.googleapis.com%2Frequests`;
  const revisionName = revision?.split("/").pop() ?? "";
  const traceId = trace?.split("/")[0];
  const quotedTimestamp = json(timestamp);
  const quotedLogName = json(logName);
  const quotedService = json(serviceName);
  let out =
    `{"httpRequest":{"requestMethod":${json(method)},"requestUrl":${json(url)},` +
    `"requestSize":${json(String(requestSize))},"status":${json(status)},`;
  if (responseSize !== undefined) out += `"responseSize":${json(String(responseSize))},`;
  if (userAgent) out += `"userAgent":${json(userAgent)},`;
  out +=
    `"remoteIp":${json(remoteIp)},"latency":${json(`${(latencyMs / 1000).toFixed(6)}s`)},"protocol":"HTTP/1.1"},` +
    `"insertId":${json(insertId)},"logName":${quotedLogName},"receiveTimestamp":${quotedTimestamp},` +
    `"resource":{"type":"cloud_run_revision","labels":{"project_id":${json(projectId)},` +
    `"service_name":${quotedService},"revision_name":${json(revisionName)},"location":${json(region)},` +
    `"configuration_name":${quotedService}}},"severity":${json(severityOf(status, textPayload !== undefined))}`;
  if (textPayload) out += `,"textPayload":${json(textPayload)}`;
  if (principalEmail) out += `,"labels":{"runguard.dev/principal":${json(principalEmail)}}`;
  out += `,"timestamp":${quotedTimestamp}`;
  if (traceId) out += `,"trace":${json(`projects/${projectId}/traces/${traceId}`)}`;
  return { timestamp, logName, json: `${out}}` };
}
