// Request-log batches on their way into SQLite, in the log writer thread. A batch that meets a passing failure
// (the database locked by another process for longer than the busy timeout, a full disk) is kept and retried,
// in order, before anything newer; a batch that fails for what it holds is written row by row, so that one bad
// row loses only itself. Rows are given up on, and reported, only after retrying for retryForMs, when more
// than maxWaitingRows wait, when the database itself is unusable, or when the writer closes.
import type { RequestLogRow } from "./store.js";

export interface RequestBatchWriterOptions {
  /** Writes one batch in one transaction; throws if it could not. */
  write(rows: RequestLogRow[]): void;
  /** Told of rows that will never be written. */
  reportLost(rows: number, error: string): void;
  retryForMs: number;
  retryEveryMs?: number;
  maxWaitingRows?: number;
  now?: () => number;
}

export interface RequestBatchWriter {
  add(rows: RequestLogRow[]): void;
  /**
   * Calls back once every batch added before it is written or given up on (later ones are not waited for),
   * with the first failure that lost rows since the previous callback (undefined if none).
   */
  whenSettled(callback: (failure: string | undefined) => void): void;
  /** Makes a last attempt, then gives up on whatever still waits (the writer is closing). */
  giveUp(): void;
}

const PASSING_FAILURE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|PROTOCOL)/;
const UNUSABLE_DATABASE = /^SQLITE_(READONLY|CORRUPT|NOTADB|CANTOPEN|MISUSE|PERM|AUTH)/;

const codeOf = (error: unknown) => {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : "";
};
const isPassing = (error: unknown) => PASSING_FAILURE.test(codeOf(error));
/** Nothing will be written, whatever the rows hold: trying them one by one would only repeat the failure. */
const isUnusable = (error: unknown) =>
  UNUSABLE_DATABASE.test(codeOf(error)) || /database connection is not open/i.test(String(error));

interface Batch {
  seq: number;
  rows: RequestLogRow[];
}

export function createRequestBatchWriter(options: RequestBatchWriterOptions): RequestBatchWriter {
  const { write, reportLost, retryForMs } = options;
  const now = options.now ?? Date.now;
  const maxWaitingRows = options.maxWaitingRows ?? 100_000;
  const waiting: Batch[] = [];
  let waitingRows = 0;
  let lastSeq = 0;
  let failingSince: number | undefined;
  let lastFailure = "";
  let lostSinceSettled: string | undefined;
  let retry: NodeJS.Timeout | undefined;
  const settleCallbacks: Array<{ upTo: number; callback: (failure: string | undefined) => void }> = [];

  const lose = (rows: number, error: string) => {
    if (rows === 0) return;
    lostSinceSettled ??= error;
    reportLost(rows, error);
  };

  const passingFailure = (error: unknown) => {
    failingSince ??= now();
    lastFailure = String(error);
  };

  /** Writes a bad batch row by row; returns the rows still to write if a passing failure stopped it. */
  const writeRowByRow = (rows: RequestLogRow[]): RequestLogRow[] | undefined => {
    let lost = 0;
    let firstError = "";
    try {
      for (let i = 0; i < rows.length; i++) {
        try {
          write([rows[i] as RequestLogRow]);
        } catch (error) {
          if (isPassing(error)) {
            passingFailure(error);
            return rows.slice(i);
          }
          if (isUnusable(error)) {
            lost += rows.length - i;
            firstError ||= String(error);
            return undefined;
          }
          lost++;
          firstError ||= String(error);
        }
      }
      return undefined;
    } finally {
      // One report for the batch, however many of its rows were lost.
      lose(lost, firstError);
    }
  };

  const shift = () => {
    const batch = waiting.shift() as Batch;
    waitingRows -= batch.rows.length;
    return batch;
  };

  /** Writes the waiting batches in order; false if a passing failure stopped it. */
  const drain = (): boolean => {
    while (waiting.length > 0) {
      const batch = waiting[0] as Batch;
      try {
        write(batch.rows);
        shift();
      } catch (error) {
        if (isPassing(error)) {
          passingFailure(error);
          return false;
        }
        shift();
        if (isUnusable(error)) {
          lose(batch.rows.length, String(error));
          continue;
        }
        const rest = writeRowByRow(batch.rows);
        if (rest) {
          waiting.unshift({ seq: batch.seq, rows: rest });
          waitingRows += rest.length;
          return false;
        }
      }
    }
    failingSince = undefined;
    return true;
  };

  const loseAllWaiting = () => {
    lose(waitingRows, lastFailure);
    waiting.length = 0;
    waitingRows = 0;
    failingSince = undefined;
  };

  /** Answers every callback whose batches are all written or given up on. */
  const settle = () => {
    const doneUpTo = waiting.length > 0 ? (waiting[0] as Batch).seq - 1 : lastSeq;
    while (settleCallbacks.length > 0 && (settleCallbacks[0]?.upTo ?? Infinity) <= doneUpTo) {
      const failure = lostSinceSettled;
      lostSinceSettled = undefined;
      settleCallbacks.shift()?.callback(failure);
    }
  };

  const pump = () => {
    if (!drain()) {
      if (now() - (failingSince ?? now()) < retryForMs) {
        retry ??= setTimeout(() => {
          retry = undefined;
          pump();
        }, options.retryEveryMs ?? 100);
      } else {
        loseAllWaiting();
      }
    }
    settle();
  };

  return {
    add(rows) {
      if (rows.length === 0) return;
      const seq = ++lastSeq;
      if (waitingRows + rows.length > maxWaitingRows)
        return lose(rows.length, `${lastFailure} (too many rows waiting)`);
      waiting.push({ seq, rows });
      waitingRows += rows.length;
      // While a retry is scheduled, new batches wait behind the older ones.
      if (retry === undefined) pump();
    },
    whenSettled(callback) {
      settleCallbacks.push({ upTo: lastSeq, callback });
      settle();
    },
    giveUp() {
      clearTimeout(retry);
      retry = undefined;
      if (!drain()) loseAllWaiting();
      settle();
    },
  };
}
