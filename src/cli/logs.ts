// `runguard logs`: audit logs, request logs and instances' output from the store, newest first, filterable; with
// --follow, the newest then each entry as it is recorded (by `up`, in this process or another).
import { Option, type Command } from "commander";
import { dataDirOf, openLocal } from "./local.js";
import { GOOGLE_STATUSES, invalidArgument } from "../core/errors.js";
import { toRfc3339 } from "../core/clock.js";
import type { LogEntryRecord, LogPosition, Store } from "../store/store.js";
import { PRINCIPAL_LABEL, REASON_LABEL } from "../store/request-log-entry.js";
import { formatLatency, printable, printableOutput } from "./terminal.js";

interface AuditPayload {
  methodName?: string;
  resourceName?: string;
  authenticationInfo?: { principalEmail?: string };
  status?: { code?: number; message?: string };
  authorizationInfo?: Array<{ permission: string; granted: boolean }>;
}

interface RequestEntry {
  httpRequest?: { requestMethod?: string; requestUrl?: string; status?: number; latency?: string };
  resource?: { labels?: { service_name?: string } };
  labels?: Record<string, string>;
  textPayload?: string;
  jsonPayload?: unknown;
}

/** --log's values: the last part of each log's name (after %2F). */
const LOGS = ["all", "activity", "data_access", "system_event", "policy", "requests", "stdout", "stderr", "system"];

interface LogsOptions {
  log: string;
  principal?: string;
  method?: string;
  service?: string;
  since?: string;
  denied: boolean;
  follow: boolean;
  limit: string;
  json: boolean;
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `10m`, `1h`, `2d` before now, or an RFC 3339 time; the RFC 3339 timestamp entries are compared with. */
export function parseSince(text: string, nowMs: number): string {
  const duration = DURATION.exec(text.trim());
  if (duration) return toRfc3339(nowMs - Number(duration[1]) * (UNIT_MS[duration[2] ?? "s"] ?? 1000));
  const at = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) {
    throw invalidArgument(`--since '${text}': give a duration (30s, 10m, 1h, 2d) or an RFC 3339 time`);
  }
  return toRfc3339(at);
}

const kindOf = (logName: string): "audit" | "requests" | "output" =>
  logName.includes("/cloudaudit.googleapis.com") ? "audit" : logName.endsWith("%2Frequests") ? "requests" : "output";

const serviceAudited = (resourceName: string | undefined, service: string) =>
  resourceName !== undefined &&
  new RegExp(`/services/${service.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(/|$)`).test(resourceName);

/** Invocation refusals carry runguard's reason (requests); audit denials, a permission not granted. */
function denied(record: LogEntryRecord): boolean {
  if (kindOf(record.logName) === "requests") {
    const entry = record.entry as RequestEntry;
    const status = entry.httpRequest?.status ?? 0;
    // Only refusals carry a reason: 401, 403, ingress 404s, and IAP's 500 when its service agent is missing.
    return status >= 400 && entry.labels?.[REASON_LABEL] !== undefined;
  }
  const payload = record.entry["protoPayload"] as AuditPayload | undefined;
  return payload?.authorizationInfo?.some((a) => !a.granted) === true;
}

function matcher(options: LogsOptions): (record: LogEntryRecord) => boolean {
  return (record) => {
    if (options.log !== "all" && !record.logName.endsWith(`%2F${options.log}`)) return false;
    const kind = kindOf(record.logName);
    const payload = (record.entry["protoPayload"] ?? {}) as AuditPayload;
    const entry = record.entry as RequestEntry;
    const principal = kind === "audit" ? payload.authenticationInfo?.principalEmail : entry.labels?.[PRINCIPAL_LABEL];
    if (options.principal && principal !== options.principal) return false;
    if (options.method) {
      const method = kind === "audit" ? payload.methodName : entry.httpRequest?.requestMethod;
      if (!method?.includes(options.method)) return false;
    }
    if (options.service) {
      const ofService =
        kind === "audit"
          ? serviceAudited(payload.resourceName, options.service)
          : entry.resource?.labels?.service_name === options.service;
      if (!ofService) return false;
    }
    if (options.denied && !denied(record)) return false;
    return true;
  };
}

const statusName = (code: number) => GOOGLE_STATUSES[code - 1] ?? `ERROR(${code})`;

/** One table row: time, status, principal, method, URL or resource, latency, and why (refusals, errors). */
export function formatRecord(record: LogEntryRecord): string {
  // Every field may carry what a caller or an instance wrote: printed without control characters.
  const kind = kindOf(record.logName);
  if (kind === "audit") {
    const payload = (record.entry["protoPayload"] ?? {}) as AuditPayload;
    const code = payload.status?.code;
    const outcome = code ? statusName(code) : "OK";
    const why = code && payload.status?.message ? `  ${printable(payload.status.message)}` : "";
    return `${record.timestamp}  ${outcome.padEnd(17)} ${printable(payload.authenticationInfo?.principalEmail ?? "-")}  ${printable(payload.methodName ?? "")}  ${printable(payload.resourceName ?? "")}  -${why}`;
  }
  const entry = record.entry as RequestEntry;
  if (kind === "requests") {
    const request = entry.httpRequest ?? {};
    const latency = request.latency ? formatLatency(Number.parseFloat(request.latency) * 1000) : "-";
    const reason = entry.labels?.[REASON_LABEL];
    return `${record.timestamp}  ${String(request.status ?? "-").padEnd(17)} ${printable(entry.labels?.[PRINCIPAL_LABEL] ?? "-")}  ${printable(request.requestMethod ?? "")}  ${printable(request.requestUrl ?? "")}  ${latency}${reason ? `  ${printable(reason)}` : ""}`;
  }
  const stream = record.logName.slice(record.logName.lastIndexOf("%2F") + 3);
  // A structured line (jsonPayload) is shown as its JSON.
  const text = entry.textPayload ?? (entry.jsonPayload === undefined ? "" : JSON.stringify(entry.jsonPayload));
  return `${record.timestamp}  ${printable(stream).padEnd(17)} [${printable(entry.resource?.labels?.service_name ?? "-")}]  ${printableOutput(text)}`;
}

const SCAN = { maxScanned: 10_000 };

/** The newest `limit` matching entries, newest first. */
async function newest(
  store: Store,
  prefix: string,
  from: string | undefined,
  limit: number,
  matches: (r: LogEntryRecord) => boolean,
) {
  const found: LogEntryRecord[] = [];
  let after: LogPosition | undefined;
  do {
    const page = await store.scanLogs({
      logNamePrefixes: [prefix],
      ...(from ? { fromTimestamp: from } : {}),
      newestFirst: true,
      ...(after ? { after } : {}),
      limit: limit - found.length,
      ...SCAN,
      matches,
    });
    found.push(...page.records);
    after = page.next;
  } while (after && found.length < limit);
  return found;
}

/**
 * Where the log ends now: a scan after it sees only what is recorded later. Only the last minute's rows are
 * read (older ones are passed over by the database); undefined when nothing was recorded in it.
 */
async function endOfLog(store: Store, prefix: string, nowMs: number): Promise<LogPosition | undefined> {
  let position: LogPosition | undefined;
  for (;;) {
    const page = await store.scanLogs({
      logNamePrefixes: [prefix],
      fromTimestamp: toRfc3339(nowMs - 60_000),
      newestFirst: false,
      ...(position ? { after: position } : {}),
      limit: 1,
      maxScanned: 100_000,
      matches: () => false,
    });
    if (!page.next) return page.end ?? position;
    position = page.next;
  }
}

const FOLLOW_EVERY_MS = 300;

export function registerLogs(program: Command): void {
  program
    .command("logs")
    .description("read audit logs, request logs and instances' output, newest first")
    .addOption(new Option("--log <name>", "which log").choices(LOGS).default("all"))
    .option("--principal <email>", "only calls by this principal")
    .option("--method <text>", "only methods containing this text (an API method, or GET, POST…)")
    .option("--service <name>", "only requests to, output of, and audited calls on this service")
    .option("--since <when>", "only entries since: a duration (30s, 10m, 1h, 2d) or an RFC 3339 time")
    .option("--denied", "only refusals: invocations refused (401, 403, ingress) and denied API calls", false)
    .option("--follow", "after the newest entries, print each new one as it is recorded, until Ctrl-C", false)
    .option("--limit <n>", "at most this many entries (with --follow: before the new ones)", "50")
    .option("--json", "print the entries as JSON lines", false)
    .action(async (options: LogsOptions, command: Command) => {
      const from = options.since === undefined ? undefined : parseSince(options.since, Date.now());
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 0)
        throw invalidArgument(`--limit '${options.limit}': give a whole number`);
      const session = await openLocal(dataDirOf(command));
      const print = (record: LogEntryRecord) =>
        console.log(options.json ? JSON.stringify(record.entry) : formatRecord(record));
      try {
        const prefix = `projects/${session.endpoints.projectId}/logs/`;
        const matches = matcher(options);
        if (!options.follow) {
          for (const record of await newest(session.store, prefix, from, limit, matches)) print(record);
          return;
        }
        // Following: where the log ends first, so nothing recorded meanwhile is missed or printed twice. With no
        // entry in the last minute, from the moment it started.
        const startedMs = Date.now();
        const position = await endOfLog(session.store, prefix, startedMs);
        const recent = limit > 0 ? await newest(session.store, prefix, from, limit, matches) : [];
        recent.reverse().forEach(print);
        const since = position || (from && from > toRfc3339(startedMs)) ? from : toRfc3339(startedMs);
        await follow(session.store, prefix, since, matches, position, print);
      } finally {
        await session.close();
      }
    });
}

/** Prints each matching entry recorded after `position`, oldest first, until Ctrl-C or the reader goes away. */
async function follow(
  store: Store,
  prefix: string,
  from: string | undefined,
  matches: (r: LogEntryRecord) => boolean,
  start: LogPosition | undefined,
  print: (record: LogEntryRecord) => void,
): Promise<void> {
  let position = start;
  let stopped = false;
  const stop = () => (stopped = true);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  // `runguard logs --follow | head -1`: once the reader is gone there is no one to print for.
  process.stdout.once("error", stop);
  process.stdout.once("close", stop);
  try {
    while (!stopped) {
      const page = await store.scanLogs({
        logNamePrefixes: [prefix],
        ...(from ? { fromTimestamp: from } : {}),
        newestFirst: false,
        ...(position ? { after: position } : {}),
        limit: 1000,
        ...SCAN,
        matches,
      });
      for (const record of page.records) if (!stopped) print(record);
      position = page.next ?? page.end ?? position;
      if (!page.next) await new Promise((resolve) => setTimeout(resolve, FOLLOW_EVERY_MS));
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
