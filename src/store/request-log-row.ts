// A Cloud Run request log entry (run.googleapis.com%2Frequests) in compact form: the front end queues one flat
// tuple per request, the store keeps that tuple, and it becomes the LogEntry only when read, so that neither
// serving a request nor writing its log builds nested log objects.
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

/** log_entries.format of a stored compact row (0: a whole LogEntry). */
export const REQUEST_ROW_FORMAT = 1;

/**
 * log_entries.format of a batch of compact rows of one project, stored as one JSON array: one table row and
 * two index entries per batch instead of per request keeps the log writer's CPU off the two cores' request
 * path. The row's timestamp is the batch's latest, so a "since" filter on it keeps every batch that matters.
 */
export const REQUEST_BATCH_FORMAT = 2;

/**
 * log_entries.format of a batch stored by column: a column whose value is the same in every row (the project,
 * service, revision, client… usually all but the time and latency) is stored once. A batch of 32 requests then
 * fits in one database page instead of three, which shrinks each commit and the periodic WAL checkpoints (bursts
 * of a millisecond or more on the writer thread, measured in the front end's latency tail).
 */
export const REQUEST_COLUMNS_FORMAT = 3;

/** Per column: { same: value } when every row has it, else the values in row order. */
type StoredColumn = { same?: unknown } | unknown[];

const COLUMNS = 16;

/** A batch as stored in REQUEST_COLUMNS_FORMAT. */
export function encodeRequestColumns(rows: readonly RequestLogRow[]): string {
  const columns: StoredColumn[] = [];
  for (let c = 0; c < COLUMNS; c++) {
    const first = rows[0]?.[c];
    let same = true;
    for (let r = 1; r < rows.length && same; r++) same = rows[r]?.[c] === first;
    columns.push(same ? { same: first } : rows.map((row) => row[c]));
  }
  return JSON.stringify([rows.length, columns]);
}

/** JSON turns a row's absent fields (undefined) into null; reading stored rows back restores undefined. */
export const absentForNull = (_key: string, value: unknown) => (value === null ? undefined : value);

/** The rows of a stored batch, in either batch format. */
export function decodeRequestBatch(format: number, json: string): RequestLogRow[] {
  const parsed = JSON.parse(json, absentForNull) as unknown;
  if (format === REQUEST_BATCH_FORMAT) return parsed as RequestLogRow[];
  const [count, columns] = parsed as [number, StoredColumn[]];
  const rows: unknown[][] = Array.from({ length: count }, () => new Array<unknown>(COLUMNS));
  columns.forEach((column, c) => {
    for (let r = 0; r < count; r++) (rows[r] as unknown[])[c] = Array.isArray(column) ? column[r] : column.same;
  });
  return rows as RequestLogRow[];
}

export const requestLogName = (projectId: string) => `projects/${projectId}/logs/run.googleapis.com%2Frequests`;

/** A stable insertId for a stored row, from its position in the log. */
export const insertIdOf = (rowId: number) => rowId.toString(16).padStart(16, "0");

/** The insertId of the entry at `index` in a stored batch: longer than insertIdOf's, so never equal to one. */
export const batchInsertIdOf = (rowId: number, index: number) =>
  `${insertIdOf(rowId)}${index.toString(16).padStart(4, "0")}`;

/** The rows of a batch split by project (one log per project), each group in arrival order. */
export function groupByProject(rows: readonly RequestLogRow[]): RequestLogRow[][] {
  const groups = new Map<string, RequestLogRow[]>();
  for (const row of rows) {
    const group = groups.get(row[1]);
    if (group) group.push(row);
    else groups.set(row[1], [row]);
  }
  return [...groups.values()];
}

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
  const logName = requestLogName(projectId);
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
