// Request-log batches on their way into SQLite, in the log writer thread. A batch that meets a passing failure
// (the database locked by another process for longer than the busy timeout, a full disk) is kept and retried,
// in order, before anything newer; a batch that fails for what it holds is written row by row, so that one bad
// row loses only itself. Rows are given up on, and reported, only after retrying for retryForMs, when more
// than maxWaitingRows wait, or when the writer closes.
import type { RequestLogRow } from "./request-log-row.js";

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
   * Calls back once every batch added so far is written or given up on, with the first failure that lost rows
   * since the previous callback (undefined if none).
   */
  whenSettled(callback: (failure: string | undefined) => void): void;
  /** Makes a last attempt, then gives up on whatever still waits (the writer is closing). */
  giveUp(): void;
}

const PASSING_FAILURE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|PROTOCOL)/;

function isPassing(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && PASSING_FAILURE.test(code);
}

export function createRequestBatchWriter(options: RequestBatchWriterOptions): RequestBatchWriter {
  const { write, reportLost, retryForMs } = options;
  const now = options.now ?? Date.now;
  const maxWaitingRows = options.maxWaitingRows ?? 100_000;
  const waiting: RequestLogRow[][] = [];
  let waitingRows = 0;
  let failingSince: number | undefined;
  let lastFailure = "";
  let lostSinceSettled: string | undefined;
  let retry: NodeJS.Timeout | undefined;
  const settleCallbacks: Array<(failure: string | undefined) => void> = [];

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
    for (let i = 0; i < rows.length; i++) {
      try {
        write([rows[i] as RequestLogRow]);
      } catch (error) {
        if (isPassing(error)) {
          passingFailure(error);
          return rows.slice(i);
        }
        lose(1, String(error));
      }
    }
    return undefined;
  };

  /** Writes the waiting batches in order; false if a passing failure stopped it. */
  const drain = (): boolean => {
    while (waiting.length > 0) {
      const batch = waiting[0] as RequestLogRow[];
      try {
        write(batch);
        waiting.shift();
        waitingRows -= batch.length;
        failingSince = undefined;
      } catch (error) {
        if (isPassing(error)) {
          passingFailure(error);
          return false;
        }
        waiting.shift();
        waitingRows -= batch.length;
        const rest = writeRowByRow(batch);
        if (rest) {
          waiting.unshift(rest);
          waitingRows += rest.length;
          return false;
        }
      }
    }
    return true;
  };

  const loseAllWaiting = () => {
    lose(waitingRows, lastFailure);
    waiting.length = 0;
    waitingRows = 0;
    failingSince = undefined;
  };

  const settle = () => {
    if (waiting.length > 0 || settleCallbacks.length === 0) return;
    const failure = lostSinceSettled;
    lostSinceSettled = undefined;
    for (const callback of settleCallbacks.splice(0)) callback(failure);
  };

  const pump = () => {
    if (!drain()) {
      if (now() - (failingSince ?? now()) < retryForMs) {
        retry ??= setTimeout(() => {
          retry = undefined;
          pump();
        }, options.retryEveryMs ?? 100);
        return;
      }
      loseAllWaiting();
    }
    settle();
  };

  return {
    add(rows) {
      if (rows.length === 0) return;
      if (waitingRows + rows.length > maxWaitingRows)
        return lose(rows.length, `${lastFailure} (too many rows waiting)`);
      waiting.push(rows);
      waitingRows += rows.length;
      // While a retry is scheduled, new batches wait behind the older ones.
      if (retry === undefined) pump();
    },
    whenSettled(callback) {
      settleCallbacks.push(callback);
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
