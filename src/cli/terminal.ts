// `runguard up`'s live terminal: one line per request (with runguard's reason when it refused), each instance's
// lines under its service's name, changes to what decides access, and progress for what takes over a second.
// Events are only queued when they happen; lines are made and written later, in the writer's thread.
import type { LiveEvent, LiveSink } from "../app/live-feed.js";
import type { RequestLogRow } from "../store/store.js";
import { createTerminalWriter, type TerminalWriter } from "./terminal-writer.js";

/** Work that ends within this long is not announced (a warm start, a cached build). */
export const PROGRESS_AFTER_MS = 1000;
const MAX_PROGRESS = 1000;
const MAX_PENDING_EVENTS = 10_000;

export interface Palette {
  dim(text: string): string;
  status(status: number, text: string): string;
  name(text: string): string;
  warn(text: string): string;
}

const paint = (code: string) => (text: string) => `\x1b[${code}m${text}\x1b[0m`;
const plain = (text: string) => text;

export const PLAIN: Palette = { dim: plain, status: (_s, text) => text, name: plain, warn: plain };
export const COLOURS: Palette = {
  dim: paint("2"),
  status: (status, text) => paint(status >= 500 ? "31" : status >= 400 ? "33" : status >= 300 ? "36" : "32")(text),
  name: paint("1"),
  warn: paint("33"),
};

/**
 * Colour only on a terminal, never when NO_COLOR is set (no-color.org), and on any output with FORCE_COLOR (a
 * value other than 0).
 */
export function wantsColour(env: NodeJS.ProcessEnv, isTty: boolean): boolean {
  if (env["NO_COLOR"]) return false;
  const force = env["FORCE_COLOR"];
  if (force !== undefined && force !== "" && force !== "0" && force !== "false") return true;
  return isTty;
}

const pad2 = (n: number) => String(n).padStart(2, "0");
export const clockTime = (ms: number) => {
  const at = new Date(ms);
  return `${pad2(at.getHours())}:${pad2(at.getMinutes())}:${pad2(at.getSeconds())}`;
};

// eslint-disable-next-line no-control-regex -- control characters are what it removes
const CONTROL_CHARACTERS = /[\x00-\x1f\x7f-\x9f]/g;
/** `text` with every control character but those in `kept` shown as `?`. */
const withoutControls = (text: string, kept: string) =>
  text.replace(CONTROL_CHARACTERS, (character) => (kept.includes(character) ? character : "?"));

/** What arrived from the network is printed without control characters, so it cannot drive the terminal. */
export const printable = (text: string) => withoutControls(text, "");

/**
 * An instance's output line (untrusted code wrote it) or a stored payload: as printable, keeping tabs, so an app
 * cannot move the cursor, retitle the terminal or write the clipboard (OSC 52) of whoever watches its logs.
 */
export const printableOutput = (text: string) => withoutControls(text, "\t");

/** runguard's own messages, which may quote what a file or a caller said: line breaks and tabs kept. */
export const printableMessage = (text: string) => withoutControls(text, "\t\n");

/** The most of one instance line the terminal shows: 10,000 waiting lines stay a few tens of MB at most. */
const MAX_SHOWN_LINE = 4096;
const clipLine = (text: string) => (text.length > MAX_SHOWN_LINE ? `${text.slice(0, MAX_SHOWN_LINE)}…` : text);

/** The member a request log's principal email stands for: service accounts' emails say that they are. */
export const memberOfEmail = (email: string | undefined) =>
  email === undefined ? "-" : `${/\.gserviceaccount\.com$/i.test(email) ? "serviceAccount" : "user"}:${email}`;

/** runguard's clock counts whole milliseconds: under one is "<1 ms". */
export const formatLatency = (ms: number) =>
  ms < 1 ? "<1 ms" : ms < 10 && !Number.isInteger(ms) ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;

const pathOf = (url: string) => url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "") || "/";

export function formatRequest(row: RequestLogRow, palette: Palette): string {
  const status = palette.status(row.status, String(row.status));
  const line = `${palette.dim(clockTime(row.timestampMs))} ${status} ${palette.name(printable(row.serviceName))} ${printable(row.method)} ${printable(pathOf(row.url))} ${printable(memberOfEmail(row.principalEmail))} ${formatLatency(row.latencyMs)}`;
  return row.reason ? `${line}  ${palette.warn(printable(row.reason))}` : line;
}

interface Progress {
  label: string;
  startedMs: number;
  announced: boolean;
  timer: NodeJS.Timeout;
}

export interface Terminal {
  sink: LiveSink;
  /** Starts printing (after the banner); events before are held, within the writer's bound. */
  start(): void;
  /** Writes what is queued (at most `timeoutMs`), then stops; false when the reader is stuck (exit, don't wait). */
  stop(timeoutMs: number): Promise<boolean>;
}

export function createTerminal(options: { fd: number; colour: boolean; writer?: TerminalWriter }): Terminal {
  const writer = options.writer ?? createTerminalWriter({ fd: options.fd });
  const palette = options.colour ? COLOURS : PLAIN;
  const progress = new Map<string, Progress>();
  /** Until start(): events wait in `pending` (bounded), behind the banner. */
  let held = true;

  const announce = (key: string) => {
    const work = progress.get(key);
    if (!work) return;
    work.announced = true;
    writer.line(`${palette.dim(clockTime(Date.now()))} ${printable(work.label)}…`);
  };

  const print = (event: LiveEvent) => {
    // Under a flood the terminal is behind: requests and output are counted, not formatted to be dropped.
    if ((event.kind === "request" || event.kind === "line") && !writer.hasRoom()) return writer.skip();
    switch (event.kind) {
      case "request":
        return writer.line(formatRequest(event.row, palette));
      case "line": {
        const stream = event.stream === "stderr" ? " stderr" : "";
        return writer.line(
          `${palette.dim(clockTime(event.atMs))} ${palette.name(`[${event.service}${stream}]`)} ${printableOutput(clipLine(event.text))}`,
        );
      }
      case "change":
        return writer.line(`${palette.dim(clockTime(event.atMs))} * ${printable(event.text)}`);
      case "progress": {
        if (event.phase === "begin") {
          if (progress.size >= MAX_PROGRESS) return;
          const timer = setTimeout(() => announce(event.key), PROGRESS_AFTER_MS);
          timer.unref();
          progress.set(event.key, { label: event.label, startedMs: event.atMs, announced: false, timer });
          return;
        }
        const work = progress.get(event.key);
        if (!work) return;
        progress.delete(event.key);
        clearTimeout(work.timer);
        // A failure is always told; a success only when its start was.
        if (!work.announced && event.ok) return;
        const seconds = ((event.atMs - work.startedMs) / 1000).toFixed(1);
        const outcome = event.ok ? printable(event.outcome) : palette.warn(printable(event.outcome));
        return writer.line(
          `${palette.dim(clockTime(event.atMs))} ${printable(work.label)}… ${outcome} in ${seconds} s`,
        );
      }
    }
  };

  // Events are kept as they come and made into lines after the current turn of the event loop: the request path
  // pays for a push, not for formatting.
  let pending: LiveEvent[] = [];
  let droppedEvents = 0;
  let scheduled = false;
  const drain = () => {
    scheduled = false;
    const events = pending;
    pending = [];
    if (droppedEvents > 0) {
      writer.line(`… ${droppedEvents} events not shown: more came at once than the terminal keeps`);
      droppedEvents = 0;
    }
    events.forEach(print);
  };

  return {
    sink(event) {
      if (pending.length >= MAX_PENDING_EVENTS) {
        droppedEvents++;
        return;
      }
      pending.push(event);
      if (!scheduled && !held) {
        scheduled = true;
        setImmediate(drain);
      }
    },
    start() {
      held = false;
      drain();
    },
    async stop(timeoutMs) {
      drain();
      for (const work of progress.values()) clearTimeout(work.timer);
      progress.clear();
      await writer.flush(timeoutMs);
      return writer.close();
    },
  };
}
