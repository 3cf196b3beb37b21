// How request log rows are kept in log_entries: a batch of rows of one project per table row, by column. One table
// row and two index entries per batch instead of per request keep the log writer's CPU off the two cores' request
// path; by column, a value that is the same in every row of the batch (the project, service, revision, client…
// usually all but the time and latency) is stored once, so a batch of 32 requests fits in one database page
// instead of three, which shrinks each commit and the periodic WAL checkpoints.
import type { RequestLogRow } from "./store.js";

/**
 * log_entries.format of a request log batch (0 is a whole LogEntry, as audit logs are kept). Formats 1 and 2,
 * written by earlier versions, are converted to this one by a migration (migrations.ts).
 */
export const REQUEST_BATCH_FORMAT = 3;

/** The stored column order: fixed, since stored batches depend on it. */
const COLUMNS: ReadonlyArray<keyof RequestLogRow> = [
  "timestampMs",
  "projectId",
  "serviceName",
  "region",
  "revision",
  "method",
  "url",
  "status",
  "latencyMs",
  "requestSize",
  "responseSize",
  "userAgent",
  "remoteIp",
  "principalEmail",
  "textPayload",
  "trace",
  // Added later: batches stored before it have no such column and read back without a reason.
  "reason",
  // Added later still: stored batches without it read back as logged requests.
  "unlogged",
];

/** Per column: { same: value } when every row has it, else the values in row order. */
type StoredColumn = { same?: unknown } | unknown[];

/** A batch as stored: [row count, one StoredColumn per column]. */
export function encodeRequestBatch(rows: readonly RequestLogRow[]): string {
  const columns = COLUMNS.map((field): StoredColumn => {
    const first = rows[0]?.[field];
    return rows.every((row) => row[field] === first) ? { same: first } : rows.map((row) => row[field]);
  });
  return JSON.stringify([rows.length, columns]);
}

/** JSON turns a row's absent fields (undefined) into null; reading stored rows back restores undefined. */
const absentForNull = (_key: string, value: unknown) => (value === null ? undefined : value);

export function decodeRequestBatch(json: string): RequestLogRow[] {
  const [count, columns] = JSON.parse(json, absentForNull) as [number, StoredColumn[]];
  const rows: Record<string, unknown>[] = Array.from({ length: count }, () => ({}));
  COLUMNS.forEach((field, c) => {
    const column = columns[c] ?? {};
    for (let r = 0; r < count; r++)
      (rows[r] as Record<string, unknown>)[field] = Array.isArray(column) ? column[r] : column.same;
  });
  return rows as unknown as RequestLogRow[];
}

/** A stable insertId for the entry at `index` in the batch stored in table row `rowId`. */
export const batchInsertIdOf = (rowId: number, index: number) =>
  `${rowId.toString(16).padStart(16, "0")}${index.toString(16).padStart(4, "0")}`;

/** The rows of a batch split by project (one log per project), each group in arrival order. */
export function groupByProject(rows: readonly RequestLogRow[]): RequestLogRow[][] {
  const groups = new Map<string, RequestLogRow[]>();
  for (const row of rows) {
    const group = groups.get(row.projectId);
    if (group) group.push(row);
    else groups.set(row.projectId, [row]);
  }
  return [...groups.values()];
}
