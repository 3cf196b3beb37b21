// The persistence boundary. Everything durable goes through this interface so that a PostgreSQL backend can
// replace the embedded SQLite one. Documents are JSON values addressed by (kind, name); a name is the resource's
// full Google name. Transactions are optimistic: reads record versions, writes are buffered and committed at the
// end only if nothing read has changed meanwhile (otherwise the function is retried, then ABORTED).

export type Kind =
  | "project"
  | "user"
  | "group"
  | "serviceAccount"
  | "serviceAccountKey"
  | "policy"
  | "signingKey"
  | "service"
  | "revision"
  | "secret"
  | "secretVersion"
  | "image"
  | "network"
  | "subnetwork"
  | "connector"
  | "privateResource"
  | "networkEndpointGroup"
  | "loadBalancer"
  | "backendService"
  | "setting"
  | "userPassword"
  | "urlMap"
  | "targetProxy"
  | "forwardingRule"
  | "sslCertificate"
  | "address"
  | "repository"
  | "bucket"
  | "storageObject"
  | "build";

export interface Change {
  /** "*" means another process changed the store: reload everything you cache. */
  kind: Kind | "*";
  name: string;
  /** The new value, or undefined when deleted. */
  value: unknown;
}

export interface TxView {
  get<T>(kind: Kind, name: string): Promise<T | undefined>;
  list<T>(kind: Kind, prefix?: string): Promise<T[]>;
  put(kind: Kind, name: string, value: unknown): void;
  delete(kind: Kind, name: string): void;
}

export interface LogEntryRecord {
  /** RFC 3339 timestamp. */
  timestamp: string;
  /** e.g. projects/P/logs/cloudaudit.googleapis.com%2Factivity */
  logName: string;
  /** The whole LogEntry in Google's JSON shape. */
  entry: Record<string, unknown>;
}

/**
 * One served request as the request log keeps it: what the front end knew when it answered. Every field is
 * always present (undefined when absent), so all rows share one shape. Read back, it becomes a Cloud Run
 * request LogEntry (request-log-entry.ts).
 */
export interface RequestLogRow {
  /** When the request arrived, in ms since the epoch. */
  timestampMs: number;
  projectId: string;
  serviceName: string;
  region: string;
  /** The revision's resource name, if the service has one. */
  revision: string | undefined;
  method: string;
  url: string;
  status: number;
  latencyMs: number;
  requestSize: number;
  responseSize: number | undefined;
  userAgent: string | undefined;
  remoteIp: string;
  principalEmail: string | undefined;
  /** Why runguard answered the request itself (a refusal, a failed instance). */
  textPayload: string | undefined;
  trace: string | undefined;
  /**
   * runguard's own words for a refusal, from the decision itself (which credential problem, which permission,
   * which ingress setting); Cloud Run's textPayload says only that it refused. Never holds a credential.
   */
  reason: string | undefined;
  /**
   * Refused before Cloud Run would log it (ingress, IAP): kept for `runguard logs`, never listed by the Logging
   * API, as Cloud Run's request log has no such entry. Absent for every other request.
   */
  unlogged?: true | undefined;
}

export interface LogQuery {
  logNamePrefix?: string;
  sinceTimestamp?: string;
  /** Newest first when true (default), oldest first otherwise. */
  newestFirst?: boolean;
  limit?: number;
}

/**
 * Where an entry lies in the order entries were recorded: its table row, and its step within a row of many (-1:
 * before the row's first entry).
 */
export interface LogPosition {
  row: number;
  step: number;
}

/** One bounded page of a log read, resumable (LogEntries' paging). */
export interface LogScan {
  /** Only log names under one of these prefixes, e.g. projects/P/logs/ (none: nothing). */
  logNamePrefixes: readonly string[];
  /** RFC 3339 bounds on the entries' timestamps: from is inclusive, before exclusive. */
  fromTimestamp?: string;
  beforeTimestamp?: string;
  newestFirst: boolean;
  /** Resume after this entry (the `next` of the page before). */
  after?: LogPosition;
  /** The most entries to return. */
  limit: number;
  /** The most entries to look at (matching or not) before answering, so that one page is bounded work. */
  maxScanned: number;
  /**
   * Asked after each entry looked at: true ends the page there, resumable, as maxScanned does (a page whose
   * filter is costly stops once its work budget is spent, however few entries it looked at).
   */
  budgetSpent?(): boolean;
  /** The most table rows to read, where the backend keeps rows (SQLite); a page may then end with no entries. */
  maxRows?: number;
  /** Which entries to return, of those looked at. */
  matches(record: LogEntryRecord): boolean;
}

export interface LogScanPage {
  records: LogEntryRecord[];
  /** Where to resume; absent when no entries are left. */
  next?: LogPosition;
  /**
   * When no entries are left: the last entry looked at, so that a scan `after` it later sees only entries
   * recorded since (`runguard logs --follow`). Absent when there was none.
   */
  end?: LogPosition;
}

export interface Store {
  get<T>(kind: Kind, name: string): Promise<T | undefined>;
  /** All documents of a kind whose name starts with prefix, ordered by name. */
  list<T>(kind: Kind, prefix?: string): Promise<T[]>;
  /** Atomic read-modify-write over any number of documents. */
  transact<R>(fn: (tx: TxView) => Promise<R>): Promise<R>;
  appendLog(record: LogEntryRecord): Promise<void>;
  /** Appends many entries in one transaction (one disk sync), in order. */
  appendLogs(records: readonly LogEntryRecord[]): Promise<void>;
  /**
   * Appends request log rows, in order. May resolve once the rows are queued rather than written; a later
   * readLogs sees them.
   */
  appendRequestLogs(rows: readonly RequestLogRow[]): Promise<void>;
  /** Whole entries as appended, and request log rows as the LogEntries requestLogEntry makes of them. */
  readLogs(query: LogQuery): Promise<LogEntryRecord[]>;
  /** One page of entries in recorded order (the same entries readLogs gives), resumable after its last. */
  scanLogs(scan: LogScan): Promise<LogScanPage>;
  /**
   * Rewrites the store's files so that nothing already overwritten or deleted can be read back from them (run
   * once after sealing keys an older runguard kept in clear).
   */
  scrub(): Promise<void>;
  /** Called after each committed change, in commit order. Returns an unsubscribe function. */
  onChange(listener: (change: Change) => void): () => void;
  close(): Promise<void>;
}
