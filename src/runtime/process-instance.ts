// One instance = one local process, started with the container contract's environment and considered ready
// once it accepts TCP connections on its port. It runs in its own process group so that stopping it stops
// everything it started.
import { spawn, type ChildProcess } from "node:child_process";
import { Socket as SocketClass, connect, createServer, type Socket } from "node:net";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { InstanceStartError } from "./instance-errors.js";
import { coldLauncher, type LauncherSource } from "./warm-launcher.js";

export interface InstanceSpec {
  id: string;
  command: string[];
  cwd: string;
  env: Record<string, string>;
  port: number;
  startupTimeoutMs: number;
  /** When set, the instance is reached (and probed) through this unix socket instead of 127.0.0.1:port. */
  socketPath?: string;
  /**
   * The command is runguard's launcher (runtime/netns-launcher.ts), which gets `config` over its IPC channel;
   * with `connects`, it answers there with sockets already connected to the app inside its namespace, and says
   * when the app is ready. Never for a user's command.
   */
  launcher?: { config: object; connects: boolean };
}

/** IPC messages between runguard and its netns launcher. The first one runguard sends: the configuration. */
export type LauncherConfigure = { configure: object };
export type LauncherRequest = { connect: number };
export type LauncherReply = { id: number; connected: true } | { id: number; error: string };
/** Sent once by the launcher when the app accepts connections and the inbound socket listens. */
export type LauncherReady = { ready: true };

export interface InstanceHooks {
  onLog(stream: "stdout" | "stderr", line: string): void;
  onExit(code: number | null, signal: string | null): void;
}

export interface RunningInstance {
  id: string;
  host: "127.0.0.1";
  port: number;
  pid: number;
  socketPath?: string;
  /** A new connection to the app, handed over by the netns launcher (no relay in between). */
  connect?: () => Promise<Socket>;
  stop(graceMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

const MAX_LINE = 64 * 1024;

/**
 * Calls `onLine` for each line of `readable` (ending in LF or CRLF). A line with no end yet is passed on in
 * pieces of MAX_LINE: an app writing endlessly without a newline must not grow runguard's memory (readline
 * keeps the whole line, up to V8's string limit, whose RangeError would end runguard).
 */
function forEachLine(readable: Readable, onLine: (line: string) => void): void {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  const emit = (line: string) => onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
  readable.on("data", (chunk: Buffer) => {
    pending += decoder.write(chunk);
    let start = 0;
    for (let end = pending.indexOf("\n"); end !== -1; end = pending.indexOf("\n", start)) {
      emit(pending.slice(start, end));
      start = end + 1;
    }
    pending = pending.slice(start);
    for (; pending.length > MAX_LINE; pending = pending.slice(MAX_LINE)) onLine(pending.slice(0, MAX_LINE));
  });
  readable.on("end", () => {
    pending += decoder.end();
    if (pending !== "") emit(pending);
  });
}

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function canConnect(target: number | string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = typeof target === "string" ? connect(target) : connect({ host: "127.0.0.1", port: target });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Starts the instance's process; a launcher comes from `launchers` (a spare already started, when there is
 * one: runtime/warm-launcher.ts) and is then sent its configuration.
 */
export async function startProcessInstance(
  spec: InstanceSpec,
  hooks: InstanceHooks,
  launchers: LauncherSource = coldLauncher,
): Promise<RunningInstance> {
  const [file, ...args] = spec.command;
  if (!file) throw new InstanceStartError("spawn", "The container has no command to run.");
  const child = spec.launcher
    ? launchers.take(spec.command, spec.env)
    : spawn(file, args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  if (spec.launcher) {
    const configure: LauncherConfigure = { configure: spec.launcher.config };
    // A launcher that is gone cannot take it: its exit, seen below, says why the instance did not start.
    child.send(configure, () => undefined);
  }
  const connects = spec.launcher?.connects === true;
  const connectToApp = connects ? launcherConnector(child) : undefined;
  // The launcher says when its app is ready, so the probes below need not wait out their interval.
  const launcherReady = connects
    ? new Promise<void>((resolve) =>
        child.on("message", (message: LauncherReady) => {
          if (typeof message === "object" && message !== null && message.ready === true) resolve();
        }),
      )
    : undefined;
  const stderrTail: string[] = [];
  for (const [stream, readable] of [
    ["stdout", child.stdout],
    ["stderr", child.stderr],
  ] as const) {
    if (!readable) continue;
    forEachLine(readable, (line) => {
      for (let i = 0; i < Math.max(line.length, 1); i += MAX_LINE) {
        const part = line.slice(i, i + MAX_LINE);
        if (stream === "stderr") {
          stderrTail.push(part);
          if (stderrTail.length > 20) stderrTail.shift();
        }
        hooks.onLog(stream, part);
      }
    });
  }
  let exitInfo: { code: number | null; signal: string | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      exitInfo = { code, signal };
      hooks.onExit(code, signal);
      resolve(exitInfo);
    });
  });
  let spawnFailure: Error | undefined;
  child.once("error", (error) => (spawnFailure = error));
  const pid = child.pid;
  const stop = async (graceMs = 10_000) => {
    if (exitInfo || pid === undefined) return;
    signalGroup(pid, "SIGTERM");
    const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
    signalGroup(pid, "SIGKILL");
  };

  const deadline = Date.now() + spec.startupTimeoutMs;
  let delay = 25;
  for (;;) {
    if (spawnFailure)
      throw new InstanceStartError("spawn", `The container command could not be started: ${spawnFailure.message}`);
    if (exitInfo) {
      throw new InstanceStartError(
        "exited",
        `The user-provided container exited (code ${exitInfo.code ?? exitInfo.signal}) before listening on the port defined by the PORT=${spec.port} environment variable.`,
        [...stderrTail],
      );
    }
    if (await canConnect(spec.socketPath ?? spec.port)) break;
    if (Date.now() > deadline) {
      await stop(1000);
      throw new InstanceStartError(
        "timeout",
        `The user-provided container failed to start and listen on the port defined provided by the PORT=${spec.port} environment variable within the allocated timeout.`,
        [...stderrTail],
      );
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((r) => (timer = setTimeout(r, delay))), launcherReady]);
    clearTimeout(timer);
    delay = Math.min(delay * 2, 100);
  }
  return {
    id: spec.id,
    host: "127.0.0.1",
    port: spec.port,
    pid: pid ?? 0,
    stop,
    exited,
    ...(spec.socketPath ? { socketPath: spec.socketPath } : {}),
    ...(connectToApp ? { connect: connectToApp } : {}),
  };
}

/** Asks the launcher for a connection to the app; it answers with the connected socket's descriptor. */
function launcherConnector(child: ChildProcess): () => Promise<Socket> {
  const waiting = new Map<number, { resolve(socket: Socket): void; reject(error: Error): void }>();
  let next = 0;
  const failAll = () => {
    for (const waiter of waiting.values()) waiter.reject(new Error("The instance's launcher is gone."));
    waiting.clear();
  };
  child.on("message", (message: LauncherReply | LauncherReady, handle: unknown) => {
    if (typeof message === "object" && message !== null && "ready" in message) {
      (handle as { destroy?: () => void } | undefined)?.destroy?.();
      return;
    }
    const waiter = typeof message === "object" && message !== null ? waiting.get(message.id) : undefined;
    const socket = handle instanceof SocketClass ? handle : undefined;
    if (!waiter || !("connected" in message) || !socket) {
      // Anything unexpected, a handle included, is dropped.
      (handle as { destroy?: () => void; close?: () => void } | undefined)?.destroy?.();
      if (waiter) {
        waiting.delete(message.id);
        waiter.reject(new Error("error" in message ? message.error : "The launcher sent no connection."));
      }
      return;
    }
    waiting.delete(message.id);
    socket.setNoDelay(true);
    waiter.resolve(socket);
  });
  child.once("disconnect", failAll);
  child.once("exit", failAll);
  return () =>
    new Promise<Socket>((resolve, reject) => {
      if (!child.connected) return reject(new Error("The instance's launcher is gone."));
      const id = ++next;
      waiting.set(id, { resolve, reject });
      const request: LauncherRequest = { connect: id };
      child.send(request, (error) => {
        if (!error) return;
        waiting.delete(id);
        reject(error);
      });
    });
}
