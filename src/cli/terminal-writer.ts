// The main-thread side of the terminal's writer thread: lines are queued and handed to the thread one chunk at a
// time. The queue is bounded: when the terminal reads slower than lines come, the newest are dropped and counted,
// and the count is printed once there is room again. A reader that goes away (`runguard up | head`) ends the
// output, never `up`.
import { Worker } from "node:worker_threads";
import type { TerminalWriterData, TerminalWriterReply } from "./terminal-writer-worker.js";

export interface TerminalWriter {
  /** Queues one line (without its newline). Never blocks, never throws. */
  line(text: string): void;
  /** Whether a line would be kept now; when not, skip() counts one dropped without making it. */
  hasRoom(): boolean;
  skip(): void;
  /** Resolves once every line queued so far is written, the reader is gone, or `timeoutMs` has passed. */
  flush(timeoutMs: number): Promise<void>;
  /**
   * Stops the thread. A thread blocked on a reader that no longer reads cannot be stopped: then this answers
   * false, and the process should exit rather than wait for it.
   */
  close(): boolean;
}

export interface TerminalWriterOptions {
  fd: number;
  /** Lines waiting at most (beyond: dropped and counted). */
  maxQueuedLines?: number;
  /** Characters handed to the thread in one chunk at most. */
  maxChunkChars?: number;
}

export function createTerminalWriter(options: TerminalWriterOptions): TerminalWriter {
  const maxQueued = options.maxQueuedLines ?? 10_000;
  const maxChunk = options.maxChunkChars ?? 64 * 1024;
  const workerData: TerminalWriterData = { fd: options.fd };
  const worker = new Worker(new URL("./terminal-writer-worker.js", import.meta.url), { workerData });
  // Printing must never keep `up` alive by itself.
  worker.unref();
  let queue: string[] = [];
  let dropped = 0;
  let inFlight = false;
  let scheduled = false;
  let gone = false;
  let idle: Array<() => void> = [];

  const settle = () => {
    const waiting = idle;
    idle = [];
    for (const resolve of waiting) resolve();
  };

  const send = () => {
    scheduled = false;
    if (inFlight || gone) return;
    if (dropped > 0 && queue.length < maxQueued) {
      queue.unshift(`… ${dropped} lines not shown: the terminal reads slower than runguard prints`);
      dropped = 0;
    }
    if (queue.length === 0) return settle();
    let size = 0;
    let count = 0;
    while (count < queue.length && (count === 0 || size < maxChunk)) size += (queue[count++] as string).length + 1;
    const chunk = `${queue.slice(0, count).join("\n")}\n`;
    queue = queue.slice(count);
    inFlight = true;
    worker.postMessage(chunk);
  };

  worker.on("message", (reply: TerminalWriterReply) => {
    inFlight = false;
    if (reply === "closed") {
      gone = true;
      queue = [];
      settle();
      return;
    }
    send();
  });
  worker.on("error", () => {
    gone = true;
    queue = [];
    settle();
  });

  return {
    line(text) {
      if (gone) return;
      if (queue.length >= maxQueued) {
        dropped++;
        return;
      }
      queue.push(text);
      if (!inFlight && !scheduled) {
        scheduled = true;
        // After the lines of this turn of the event loop: they go out together.
        setImmediate(send);
      }
    },
    hasRoom: () => !gone && queue.length < maxQueued,
    skip() {
      if (!gone) dropped++;
    },
    flush(timeoutMs) {
      if (gone || (!inFlight && !scheduled && queue.length === 0 && dropped === 0)) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        idle.push(() => {
          clearTimeout(timer);
          resolve();
        });
        if (!inFlight && !scheduled) send();
      });
    },
    close() {
      const stuck = inFlight && !gone;
      gone = true;
      settle();
      void worker.terminate();
      return !stuck;
    },
  };
}
