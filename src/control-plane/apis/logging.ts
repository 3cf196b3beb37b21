// Cloud Logging v2 entries:list (logging.googleapis.com) as gcloud logging read, gcloud run services logs read and
// the client libraries call it: request logs, instances' stdout/stderr and audit logs, filtered with Logging's
// query language (core/logging-filter.ts), one bounded page at a time.
import { RE2JS } from "re2js";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { invalidArgument } from "../../core/errors.js";
import {
  MAX_VALUE_DEPTH,
  parseLogFilter,
  SEVERITIES,
  type LogEntryJson,
  type WorkMeter,
} from "../../core/logging-filter.js";
import { toRfc3339 } from "../../core/clock.js";
import type { Project } from "../../accounts/projects.js";
import type { LogEntryRecord, LogPosition } from "../../store/store.js";
import { UNLOGGED_LABEL } from "../../store/request-log-entry.js";
import { path, type ApiCall, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";
import { projectOf } from "../call-project.js";
import { listLogEntriesRequest, type ListLogEntriesBody } from "../wire/logging.js";

const M = "google.logging.v2.LoggingServiceV2.";

/** `=~` in filters runs on RE2: linear in the text, whatever the pattern. */
export const re2Search = (pattern: string) => {
  const compiled = RE2JS.compile(pattern);
  return (text: string) => compiled.matcher(text).find();
};

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
/** Entries one page looks at, matching or not, before it answers with what it found and a nextPageToken. */
export const MAX_SCANNED_PER_PAGE = 20_000;
/**
 * The filter work one page may do (WorkMeter units: about one per character searched) before it answers with what
 * it found and a nextPageToken; Logging's pages may be short, even empty, when a token follows. A page of 20,000
 * entries with a few search words stays well within it; a filter of hundreds of words over every field does not,
 * and is answered in several pages instead of holding the process for seconds.
 */
export const MAX_FILTER_WORK_PER_PAGE = 50_000_000;
const MAX_RESOURCE_NAMES = 100;
const DATA_ACCESS_LOG = "/logs/cloudaudit.googleapis.com%2Fdata_access";

// ---------------------------------------------------------------------------------------------------------------
// Page tokens: where the last page stopped, bound to the query it answered and signed with a key this process
// made, so that a token cannot be forged, edited or reused for another query.

const tokenKey = randomBytes(32);
const sign = (text: string) => createHmac("sha256", tokenKey).update(text).digest();

function queryDigest(projects: readonly string[], filter: string, newestFirst: boolean): string {
  return createHmac("sha256", tokenKey)
    .update(JSON.stringify([projects, filter, newestFirst]))
    .digest("base64url")
    .slice(0, 16);
}

function encodePageToken(position: LogPosition, digest: string): string {
  const text = `${position.row}.${position.step}.${digest}`;
  return `${Buffer.from(text).toString("base64url")}.${sign(text).toString("base64url")}`;
}

function decodePageToken(token: string, digest: string): LogPosition {
  const refused = () => invalidArgument("The page token is invalid (or it was made for a different query).");
  const [body = "", mac = ""] = token.split(".");
  if (token.length > 200 || body === "" || mac === "") throw refused();
  const text = Buffer.from(body, "base64url").toString();
  const expected = sign(text);
  const given = Buffer.from(mac, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refused();
  const [row, step, tokenDigest] = text.split(".");
  if (tokenDigest !== digest || !/^\d+$/.test(row ?? "") || !/^-?\d+$/.test(step ?? "")) throw refused();
  return { row: Number(row), step: Number(step) };
}

// ---------------------------------------------------------------------------------------------------------------
// Request

/** The projects a resource name reads from: projects/P, or a log view of the project's buckets. */
function projectOfResourceName(name: string): string {
  const match = /^projects\/([^/]+)(?:\/locations\/[^/]+\/buckets\/[^/]+\/views\/[^/]+)?$/.exec(name);
  if (!match?.[1])
    throw invalidArgument(
      `Invalid resource name '${name.slice(0, 100)}': runguard serves logs of projects ("projects/PROJECT_ID").`,
    );
  return match[1];
}

function orderOf(orderBy: string | undefined): boolean {
  const order = (orderBy ?? "").trim().toLowerCase().replace(/\s+/g, " ");
  if (order === "" || order === "timestamp" || order === "timestamp asc") return false;
  if (order === "timestamp desc") return true;
  throw invalidArgument(
    `Invalid order_by '${(orderBy ?? "").slice(0, 100)}': use "timestamp asc" or "timestamp desc".`,
  );
}

function pageSizeOf(pageSize: number | undefined): number {
  if (pageSize === undefined || pageSize === 0) return DEFAULT_PAGE_SIZE;
  if (pageSize < 0 || pageSize > MAX_PAGE_SIZE)
    throw invalidArgument(`page_size must be between 0 and ${MAX_PAGE_SIZE}; it is ${pageSize}.`);
  return pageSize;
}

// ---------------------------------------------------------------------------------------------------------------
// Entries

const STRUCTURED_LOG = /\/logs\/run\.googleapis\.com%2F(stdout|stderr)$/;
const SPECIAL = "logging.googleapis.com/";

/**
 * A line an instance wrote as a JSON object is a structured log on Cloud Run: it becomes jsonPayload, and its
 * special fields become the entry's severity, labels, trace, spanId, httpRequest and so on.
 */
function structured(entry: LogEntryJson): LogEntryJson {
  const text = entry["textPayload"];
  if (typeof text !== "string" || !text.startsWith("{")) return entry;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return entry;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return entry;
  // A line nested deeper than anything a logger writes stays text: as an object it would overflow the stack of
  // whatever walks it (the filter, the JSON answer) and fail every read of the project's logs.
  if (nestedDeeperThan(parsed, MAX_VALUE_DEPTH)) return entry;
  const payload = { ...(parsed as Record<string, unknown>) };
  const { textPayload: _text, ...rest } = entry;
  const out: LogEntryJson = { ...rest };
  const take = (key: string) => {
    const value = payload[key];
    delete payload[key];
    return value;
  };
  const severity = take("severity");
  if (typeof severity === "string" && (SEVERITIES as readonly string[]).includes(severity.toUpperCase()))
    out["severity"] = severity.toUpperCase();
  const labels = take(`${SPECIAL}labels`);
  if (typeof labels === "object" && labels !== null && !Array.isArray(labels))
    out["labels"] = { ...(entry["labels"] as object | undefined), ...labels };
  for (const [key, field] of [
    ["trace", "trace"],
    ["spanId", "spanId"],
    ["trace_sampled", "traceSampled"],
    ["insertId", "insertId"],
    ["sourceLocation", "sourceLocation"],
    ["operation", "operation"],
  ] as const) {
    const value = take(`${SPECIAL}${key}`);
    if (value !== undefined) out[field] = value;
  }
  const httpRequest = take("httpRequest");
  if (typeof httpRequest === "object" && httpRequest !== null) out["httpRequest"] = httpRequest;
  out["jsonPayload"] = payload;
  return out;
}

/** Whether a parsed JSON value has objects or arrays nested more than `limit` levels deep (iterative). */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (typeof item.value !== "object" || item.value === null) continue;
    if (item.depth > limit) return true;
    for (const child of Object.values(item.value)) stack.push({ value: child, depth: item.depth + 1 });
  }
  return false;
}

/** An instant as the store's timestamps are written, when it compares with them as text (years 0000-9999). */
function storedTimestamp(ms: number | undefined): string | undefined {
  if (ms === undefined || Math.abs(ms) > 8.64e15) return undefined;
  const text = toRfc3339(ms);
  return /^\d{4}-/.test(text) ? text : undefined;
}

const render = (record: LogEntryRecord): LogEntryJson =>
  STRUCTURED_LOG.test(record.logName) ? structured(record.entry) : record.entry;

// ---------------------------------------------------------------------------------------------------------------
// entries:list

async function listEntries(call: ApiCall) {
  const body = call.body as ListLogEntriesBody;
  const names = [...(body.resourceNames ?? []), ...(body.projectIds ?? []).map((id) => `projects/${id}`)];
  if (names.length === 0) throw invalidArgument("resource_names must name at least one project.");
  if (names.length > MAX_RESOURCE_NAMES)
    throw invalidArgument(`resource_names may name at most ${MAX_RESOURCE_NAMES} resources.`);
  const newestFirst = orderOf(body.orderBy);
  const pageSize = pageSizeOf(body.pageSize);
  const filterText = body.filter ?? "";
  const filter = parseLogFilter(filterText, re2Search);

  const projectIds = [...new Set(names.map(projectOfResourceName))];
  const projects: Project[] = [];
  for (const id of projectIds) projects.push(await projectOf(call, id));
  return auditAs({ projectId: projects[0]?.projectId ?? "" }, async () => {
    // Data Access audit logs are private logs: read only where the caller may read private logs, and otherwise
    // left out (as Logging leaves them out of what a viewer sees).
    const privateLogs = new Set<string>();
    for (const project of projects) {
      const resource = `projects/${project.projectId}`;
      call.ctx.authorize("logging.logEntries.list", resource);
      if (call.ctx.holds("logging.privateLogEntries.list", resource)) privateLogs.add(project.projectId);
    }
    const ids = projects.map((p) => p.projectId).sort();
    const digest = queryDigest(ids, filterText, newestFirst);
    const after = body.pageToken ? decodePageToken(body.pageToken, digest) : undefined;

    const rendered = new WeakMap<LogEntryRecord, LogEntryJson>();
    const entryOf = (record: LogEntryRecord) => {
      let entry = rendered.get(record);
      if (!entry) rendered.set(record, (entry = render(record)));
      return entry;
    };
    const work: WorkMeter = { units: 0 };
    const from = storedTimestamp(filter.timestampFromMs);
    const before = storedTimestamp(filter.timestampBeforeMs);
    const page = await call.platform.store.scanLogs({
      logNamePrefixes: ids.map((id) => `projects/${id}/logs/`),
      ...(from === undefined ? {} : { fromTimestamp: from }),
      ...(before === undefined ? {} : { beforeTimestamp: before }),
      newestFirst,
      ...(after ? { after } : {}),
      limit: pageSize,
      maxScanned: MAX_SCANNED_PER_PAGE,
      budgetSpent: () => work.units >= MAX_FILTER_WORK_PER_PAGE,
      matches: (record) => {
        if (record.logName.endsWith(DATA_ACCESS_LOG) && !privateLogs.has(record.logName.split("/")[1] ?? ""))
          return false;
        // Refusals Cloud Run would not have logged (ingress, IAP) are runguard's alone (`runguard logs`).
        if ((record.entry["labels"] as Record<string, string> | undefined)?.[UNLOGGED_LABEL]) return false;
        return filter.matches(entryOf(record), work);
      },
    });
    return {
      entries: page.records.map(entryOf),
      ...(page.next ? { nextPageToken: encodePageToken(page.next, digest) } : {}),
    };
  });
}

export const loggingRoutes: Route[] = [
  {
    api: "logging",
    method: "POST",
    path: path("/v2/entries:list"),
    methodName: `${M}ListLogEntries`,
    body: listLogEntriesRequest,
    mutates: false,
    handle: listEntries,
  },
];
