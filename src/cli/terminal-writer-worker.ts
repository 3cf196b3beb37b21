// Runs in a worker thread: writes the terminal's chunks to a file descriptor. A write to a pipe or a terminal
// blocks while its reader is slow (Node writes stdout synchronously on Linux); here it blocks only this thread,
// never the event loop that serves requests.
import { writeSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";

export interface TerminalWriterData {
  fd: number;
}
/** The main thread sends chunks; this thread answers each with "written", or "closed" once the reader is gone. */
export type TerminalWriterReply = "written" | "closed";

const { fd } = workerData as TerminalWriterData;
const port = parentPort;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes the whole chunk; false once the reader is gone (EPIPE) or the descriptor cannot be written. */
function writeAll(chunk: Buffer): boolean {
  let offset = 0;
  while (offset < chunk.length) {
    try {
      offset += writeSync(fd, chunk, offset);
    } catch (error) {
      // A descriptor someone made non-blocking: wait for room, as a blocking write would.
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") Atomics.wait(pause, 0, 0, 10);
      else return false;
    }
  }
  return true;
}

let closed = false;
port?.on("message", (chunk: string) => {
  if (closed) return;
  if (writeAll(Buffer.from(chunk))) port.postMessage("written" satisfies TerminalWriterReply);
  else {
    closed = true;
    port.postMessage("closed" satisfies TerminalWriterReply);
  }
});
