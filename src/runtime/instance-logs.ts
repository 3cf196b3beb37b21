// Instance stdout/stderr become the service's log (run.googleapis.com%2Fstdout / %2Fstderr). What an instance
// writes must neither grow runguard's memory without bound nor crowd out other instances' logs, so each instance
// has a budget (bytes per second, after a burst) and a fair share of one bounded queue of lines awaiting the
// store: with n instances' lines waiting, an instance may hold 1/(n+1) of it, so a newcomer always finds room.
// Past them its lines are dropped and counted, and the count is written as one WARNING entry per instance in
// run.googleapis.com%2Fvarlog%2Fsystem, the log where Cloud Run says what the platform did to an instance.
import { randomBytes } from "node:crypto";
import type { LogEntryRecord, Store } from "../store/store.js";
import type { StoredRevision } from "../run/types.js";

export interface InstanceLogWriter {
  write(revision: StoredRevision, instanceId: string, stream: "stdout" | "stderr", line: string): void;
  /** Reports the drops not yet reported, then resolves once every queued line is written (or failed). */
  close(): Promise<void>;
}

/**
 * Told of each line the writer keeps (within the limits above: a dropped line is not passed on), for a live view
 * (`runguard up`'s terminal). Called as the line is read: it must only queue, and never throw.
 */
export type InstanceLineWatcher = (
  revision: StoredRevision,
  instanceId: string,
  stream: "stdout" | "stderr",
  line: string,
) => void;

export interface InstanceLogLimits {
  /** Bytes per second an instance may log, sustained. A line counts its length plus ENTRY_OVERHEAD_BYTES. */
  instanceBytesPerSecond: number;
  /** Bytes an instance may log at once, before its rate applies. */
  instanceBurstBytes: number;
  /** Lines from all instances waiting for the store, at most this many bytes and this many entries. */
  queueMaxBytes: number;
  queueMaxEntries: number;
  /** Drops are reported once an instance has dropped nothing for this long... */
  reportQuietMs: number;
  /** ...or, in a flood that goes on, this long after its first unreported drop. */
  reportEveryMs: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_INSTANCE_LOG_LIMITS: InstanceLogLimits = {
  instanceBytesPerSecond: 1 * MiB,
  instanceBurstBytes: 16 * MiB,
  queueMaxBytes: 32 * MiB,
  queueMaxEntries: 32_768,
  reportQuietMs: 1_000,
  reportEveryMs: 60_000,
};

/** What a line costs beyond its text: the LogEntry around it, in memory and in the store. */
export const ENTRY_OVERHEAD_BYTES = 512;
/** One store write (one transaction) takes at most this much, so it holds the database's write lock briefly. */
const BATCH_MAX_ENTRIES = 512;
const BATCH_MAX_BYTES = 2 * MiB;
/** An instance's state is forgotten after this long without a line (its budget is full again by then). */
const FORGET_AFTER_MS = 60_000;

export const INSTANCE_LOGS_LOST_WARNING = "RUNGUARD_INSTANCE_LOGS_LOST";

interface InstanceState {
  revision: StoredRevision;
  instanceId: string;
  /** The token bucket: bytes the instance may still log now. */
  budget: number;
  refilledAtMs: number;
  lastLineAtMs: number;
  queuedBytes: number;
  queuedEntries: number;
  droppedOverRate: number;
  droppedQueueFull: number;
  firstDropAtMs: number;
  lastDropAtMs: number;
}

interface Queued {
  record: LogEntryRecord;
  charge: number;
  instance: InstanceState;
}

function logEntry(
  revision: StoredRevision,
  instanceId: string,
  log: string,
  severity: string,
  textPayload: string,
  timestamp: string,
): LogEntryRecord {
  const logName = `projects/${revision.projectId}/logs/run.googleapis.com%2F${log}`;
  return {
    timestamp,
    logName,
    entry: {
      logName,
      textPayload,
      timestamp,
      receiveTimestamp: timestamp,
      severity,
      insertId: randomBytes(8).toString("hex"),
      labels: { instanceId },
      resource: {
        type: "cloud_run_revision",
        labels: {
          project_id: revision.projectId,
          service_name: revision.service,
          revision_name: revision.name,
          location: revision.region,
          configuration_name: revision.service,
        },
      },
    },
  };
}

const mib = (bytes: number) => `${Number((bytes / MiB).toFixed(2))} MiB`;

function warnLost(entries: number, error: unknown): void {
  process.emitWarning(`${entries} instance log entries could not be written and were dropped: ${String(error)}`, {
    code: INSTANCE_LOGS_LOST_WARNING,
  });
}

export function createInstanceLogWriter(
  store: Store,
  limits: InstanceLogLimits = DEFAULT_INSTANCE_LOG_LIMITS,
  now: () => number = Date.now,
  watch?: InstanceLineWatcher,
): InstanceLogWriter {
  const instances = new Map<string, InstanceState>();
  let queue: Queued[] = [];
  let queuedBytes = 0;
  /** Instances with lines in the queue. */
  let queuing = 0;
  let writing: Promise<void> | undefined;
  let scheduled = false;
  let closed = false;

  /** Writes one batch at a time: what waits meanwhile is the queue, and the queue is bounded. */
  const pump = () => {
    scheduled = false;
    if (writing || queue.length === 0) return;
    let count = 0;
    let bytes = 0;
    while (count < queue.length && count < BATCH_MAX_ENTRIES && bytes < BATCH_MAX_BYTES)
      bytes += (queue[count++] as Queued).charge;
    const batch = queue.slice(0, count);
    queue = queue.slice(count);
    writing = store
      .appendLogs(batch.map((item) => item.record))
      .catch((error: unknown) => warnLost(batch.length, error))
      .finally(() => {
        for (const item of batch) {
          // A drop report costs nothing and is no line of the instance's.
          if (item.charge === 0) continue;
          queuedBytes -= item.charge;
          item.instance.queuedBytes -= item.charge;
          if (--item.instance.queuedEntries === 0) queuing--;
        }
        writing = undefined;
        pump();
      });
  };
  const schedule = () => {
    if (scheduled || writing) return;
    scheduled = true;
    // After the lines of the chunk being read: they go to the store together.
    setImmediate(pump);
  };

  const stateOf = (revision: StoredRevision, instanceId: string, at: number): InstanceState => {
    let state = instances.get(instanceId);
    if (!state) {
      state = {
        revision,
        instanceId,
        budget: limits.instanceBurstBytes,
        refilledAtMs: at,
        lastLineAtMs: at,
        queuedBytes: 0,
        queuedEntries: 0,
        droppedOverRate: 0,
        droppedQueueFull: 0,
        firstDropAtMs: 0,
        lastDropAtMs: 0,
      };
      instances.set(instanceId, state);
    }
    return state;
  };

  const dropped = (state: InstanceState) => state.droppedOverRate + state.droppedQueueFull;

  /** One WARNING entry for what the instance dropped since its last one; it bypasses the limits (it is small). */
  const reportDrops = (state: InstanceState) => {
    const reasons: Array<[number, string]> = [
      [state.droppedOverRate, `more than ${mib(limits.instanceBytesPerSecond)}/s`],
      [state.droppedQueueFull, "faster than runguard could store them"],
    ];
    const given = reasons.filter(([count]) => count > 0);
    const why =
      given.length === 1 ? given[0]?.[1] : given.map(([count, reason]) => `${reason} (${count} lines)`).join(", ");
    const text = `runguard dropped ${dropped(state)} log lines from this instance: ${why}`;
    const record = logEntry(state.revision, state.instanceId, "varlog%2Fsystem", "WARNING", text, toIso(now()));
    state.droppedOverRate = 0;
    state.droppedQueueFull = 0;
    queue.push({ record, charge: 0, instance: state });
    schedule();
  };

  const review = () => {
    const at = now();
    for (const state of instances.values()) {
      if (dropped(state) > 0) {
        if (at - state.lastDropAtMs >= limits.reportQuietMs || at - state.firstDropAtMs >= limits.reportEveryMs)
          reportDrops(state);
      } else if (state.queuedEntries === 0 && at - state.lastLineAtMs >= FORGET_AFTER_MS) {
        instances.delete(state.instanceId);
      }
    }
  };
  const timer = setInterval(review, Math.max(100, Math.min(limits.reportQuietMs, 1_000)));
  timer.unref();

  return {
    write(revision, instanceId, stream, line) {
      // Lines read after close (instances already stopped) have nowhere to go.
      if (closed) return;
      const at = now();
      const state = stateOf(revision, instanceId, at);
      state.lastLineAtMs = at;
      state.budget = Math.min(
        limits.instanceBurstBytes,
        state.budget + ((at - state.refilledAtMs) * limits.instanceBytesPerSecond) / 1000,
      );
      state.refilledAtMs = at;
      const charge = line.length + ENTRY_OVERHEAD_BYTES;
      const overRate = charge > state.budget;
      const shares = queuing - (state.queuedEntries > 0 ? 1 : 0) + 2;
      const queueFull =
        !overRate &&
        (queuedBytes + charge > limits.queueMaxBytes ||
          queue.length >= limits.queueMaxEntries ||
          state.queuedBytes + charge > limits.queueMaxBytes / shares ||
          state.queuedEntries + 1 > limits.queueMaxEntries / shares);
      if (overRate || queueFull) {
        if (overRate) state.droppedOverRate++;
        else state.droppedQueueFull++;
        if (dropped(state) === 1) state.firstDropAtMs = at;
        state.lastDropAtMs = at;
        return;
      }
      state.budget -= charge;
      if (state.queuedEntries++ === 0) queuing++;
      state.queuedBytes += charge;
      queuedBytes += charge;
      const severity = stream === "stderr" ? "ERROR" : "INFO";
      queue.push({
        record: logEntry(revision, instanceId, stream, severity, line, toIso(at)),
        charge,
        instance: state,
      });
      schedule();
      watch?.(revision, instanceId, stream, line);
    },
    async close() {
      closed = true;
      clearInterval(timer);
      for (const state of instances.values()) if (dropped(state) > 0) reportDrops(state);
      while (queue.length > 0 || writing) {
        pump();
        await writing;
      }
    },
  };
}

const toIso = (ms: number) => new Date(ms).toISOString();
