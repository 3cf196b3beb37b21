// The terminal writer on a real pipe (a FIFO): a reader that stops reading costs lines, counted, never a wait;
// a reader that goes away ends the output.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTerminalWriter } from "./terminal-writer.js";

/** A FIFO with its read end open (non-blocking, unread for now) and its write end open for the writer. */
function openPipe() {
  const dir = mkdtempSync(join(tmpdir(), "rg-term-"));
  const path = join(dir, "fifo");
  execFileSync("mkfifo", [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY);
  return { reader, writer, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Everything waiting in the pipe now. */
function drain(fd: number): string {
  const buffer = Buffer.alloc(1 << 16);
  let text = "";
  for (;;) {
    try {
      const n = readSync(fd, buffer);
      if (n === 0) return text;
      text += buffer.subarray(0, n).toString();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") return text;
      throw error;
    }
  }
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("terminal writer", () => {
  it("never waits for a reader that does not read: past its bound, lines are dropped and the count printed", async () => {
    const pipe = openPipe();
    const terminal = createTerminalWriter({ fd: pipe.writer, maxQueuedLines: 100, maxChunkChars: 4096 });
    try {
      const line = "x".repeat(199);
      const started = performance.now();
      // 5,000 lines of 200 bytes: 1 MB, sixteen times what the pipe holds.
      for (let i = 0; i < 5000; i++) terminal.line(`${i} ${line}`);
      const queuedMs = performance.now() - started;
      assert.ok(queuedMs < 200, `queueing took ${queuedMs} ms`);
      await settle(300);
      // The event loop still turns while the thread is blocked on the full pipe.
      const tick = performance.now();
      await settle(10);
      assert.ok(performance.now() - tick < 200);
      let text = "";
      for (let i = 0; i < 50 && !/lines not shown/.test(text); i++) {
        text += drain(pipe.reader);
        await settle(20);
      }
      const dropped = /… (\d+) lines not shown: the terminal reads slower than runguard prints/.exec(text);
      assert.ok(dropped, "the drop is reported");
      const shown = text.split("\n").filter((l) => / x+$/.test(l)).length;
      // Whatever was written or queued is shown, the rest counted: together, every line.
      terminal.line("after");
      await terminal.flush(2000);
      text += drain(pipe.reader);
      const total = text.split("\n").filter((l) => / x+$/.test(l)).length;
      assert.equal(total + Number(dropped[1]), 5000, `shown ${shown}, then ${total}`);
      assert.match(text, /\nafter\n$/);
    } finally {
      terminal.close();
      closeSync(pipe.reader);
      closeSync(pipe.writer);
      pipe.cleanup();
    }
  });

  it("stops writing once the reader is gone (EPIPE), without throwing", async () => {
    const pipe = openPipe();
    const terminal = createTerminalWriter({ fd: pipe.writer });
    try {
      terminal.line("first");
      await terminal.flush(2000);
      assert.equal(drain(pipe.reader), "first\n");
      closeSync(pipe.reader);
      for (let i = 0; i < 100; i++) terminal.line(`line ${i}`);
      await terminal.flush(2000);
      terminal.line("ignored");
      assert.equal(terminal.close(), true);
    } finally {
      closeSync(pipe.writer);
      pipe.cleanup();
    }
  });
});
