// `runguard exec -- CMD…`: Firebase's `emulators:exec` for runguard. Starts runguard in this process (a throwaway
// data directory and free ports unless told otherwise), runs CMD with gcloud and the client libraries pointed at
// it, passes signals on, stops everything when CMD ends and exits with CMD's exit code (a signal n: 128+n).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import type { Command } from "commander";
import type { StartedRunguard, StartOptions } from "../api/start.js";
import { serviceVariables } from "../api/environment.js";
import { STATE_FILE_NAME } from "../declarative/index.js";
import { dataDirOf } from "./local.js";

interface ExecOptions {
  config?: string;
  project?: string;
  owner?: string;
  region?: string;
  port?: string;
  frontEndPort?: string;
  lbPort?: string;
  lbHttpsPort?: string;
  isolation?: string;
  logLevel: string;
}

const FORWARDED: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export function registerExec(program: Command): void {
  program
    .command("exec")
    .description("start runguard, run CMD against it, stop everything; exit with CMD's exit code")
    .argument("<command...>", 'the command and its arguments after --, or one shell line ("npm test")')
    .option(
      "--config <file>",
      `apply this state file once runguard is up (default: ./${STATE_FILE_NAME} when it exists)`,
    )
    .option(
      "--project <id>",
      "the project (default: the state file's, or my-gcp-project)",
      process.env["RUNGUARD_PROJECT"],
    )
    .option("--owner <email>", "the project's owner, whom CMD's gcloud is signed in as", process.env["RUNGUARD_OWNER"])
    .option("--region <region>", "default region", process.env["RUNGUARD_REGION"])
    .option("--port <port>", "control-plane port (default: a free one)")
    .option("--front-end-port <port>", "the front end's port (default: a free one)")
    .option("--lb-port <port>", "the load balancer's port (default: a free one)")
    .option("--lb-https-port <port>", "the load balancer's HTTPS port (default: a free one)")
    .option("--isolation <mode>", "auto, netns or process")
    .option("--log-level <level>", "runguard's own log on stderr", "warn")
    .addHelpText(
      "after",
      "\nWithout --data-dir on the command line, state lives in a new temporary directory, removed at the end.\n" +
        "CMD sees `runguard env`'s variables, RUNGUARD_API_URL, RUNGUARD_FRONT_END_URL, RUNGUARD_DATA_DIR… and\n" +
        "RUNGUARD_URL_<SERVICE> / RUNGUARD_LOCAL_URL_<SERVICE> for each service (docs/testing.md).",
    )
    .action(async (argv: string[], options: ExecOptions, command: Command) => {
      process.exitCode = await runExec(argv, options, command);
    });
}

function startOptionsOf(options: ExecOptions, command: Command): StartOptions {
  const port = (text: string | undefined) => (text === undefined ? 0 : Number(text));
  // Only a --data-dir typed on the command line keeps state: RUNGUARD_DATA_DIR is what exec sets for CMD.
  const keep = command.parent?.getOptionValueSource("dataDir") === "cli";
  const config = options.config ?? (existsSync(STATE_FILE_NAME) ? STATE_FILE_NAME : undefined);
  return {
    ...(config ? { config } : {}),
    ...(keep ? { dataDir: dataDirOf(command) } : {}),
    ...(options.project ? { projectId: options.project } : {}),
    ...(options.owner ? { ownerEmail: options.owner } : {}),
    ...(options.region ? { region: options.region } : {}),
    ...(options.isolation ? { isolation: options.isolation as NonNullable<StartOptions["isolation"]> } : {}),
    logLevel: options.logLevel as NonNullable<StartOptions["logLevel"]>,
    ports: {
      api: port(options.port),
      frontEnd: port(options.frontEndPort),
      loadBalancer: port(options.lbPort),
      loadBalancerHttps: port(options.lbHttpsPort),
    },
  };
}

async function runExec(argv: string[], options: ExecOptions, command: Command): Promise<number> {
  // A signal before CMD runs (during start) stops runguard as soon as it is up, with the shell's exit code.
  let early: NodeJS.Signals | undefined;
  const onEarlySignal = (signal: NodeJS.Signals) => (early ??= signal);
  for (const signal of FORWARDED) process.on(signal, onEarlySignal);
  let runguard: StartedRunguard | undefined;
  try {
    const startOptions = startOptionsOf(options, command);
    // Loaded when exec runs: every other command starts without runguard's whole server in memory.
    const { start } = await import("../api/start.js");
    runguard = await start(startOptions);
    if (early) return exitCodeOf(null, early);
    const env = { ...process.env, ...runguard.env, ...serviceVariables(await runguard.services()) };
    console.error(
      `runguard exec: runguard is up (control plane ${runguard.endpoints.api}, front end ${runguard.endpoints.frontEnd}` +
        `${startOptions.config ? `, ${startOptions.config} applied` : ""}); running ${programOf(argv)}`,
    );
    return await runCommand(argv, env);
  } finally {
    for (const signal of FORWARDED) process.off(signal, onEarlySignal);
    await runguard?.stop();
  }
}

/**
 * Runs CMD. Without a terminal (CI), in a process group of its own: each signal reaches it once, from here, and
 * what it leaves running is stopped with it. On a terminal, in the terminal's foreground group, so that CMD can
 * read from it (a shell, a prompt): the terminal itself sends Ctrl-C to CMD, and here only SIGTERM and SIGHUP
 * are passed on.
 */
function runCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [file, ...args] = argv;
  // One argument with a space is a shell line, as `firebase emulators:exec "npm test"` takes it.
  const shellLine = argv.length === 1 && /\s/.test(file ?? "");
  const onTerminal = process.stdin.isTTY === true;
  const child = spawn(shellLine ? "/bin/sh" : (file ?? ""), shellLine ? ["-c", file ?? ""] : args, {
    stdio: "inherit",
    env,
    detached: !onTerminal,
  });
  const toCommand = (signal: NodeJS.Signals) => {
    try {
      if (child.pid === undefined) return;
      if (!onTerminal) process.kill(-child.pid, signal);
      // The terminal delivered Ctrl-C to CMD already: runguard only waits for CMD to end.
      else if (signal !== "SIGINT") process.kill(child.pid, signal);
    } catch {
      // CMD (or its group) is gone already: it is exiting.
    }
  };
  for (const signal of FORWARDED) process.on(signal, toCommand);
  return new Promise((resolve) => {
    child.once("error", (error: NodeJS.ErrnoException) => {
      for (const signal of FORWARDED) process.off(signal, toCommand);
      console.error(`ERROR: cannot run ${file}: ${error.code ?? error.message}`);
      // A shell's code for a command it cannot find or run.
      resolve(error.code === "ENOENT" ? 127 : 126);
    });
    child.once("exit", (code, signal) => {
      for (const s of FORWARDED) process.off(s, toCommand);
      // What CMD left running in its group would call a runguard that is about to go: it goes first.
      if (!onTerminal) toCommand("SIGTERM");
      resolve(exitCodeOf(code, signal));
    });
  });
}

/** Only the program: its arguments may carry what should not be in a CI log (a token, a password). */
function programOf(argv: readonly string[]): string {
  return argv[0]?.trim().split(/\s+/)[0] ?? "";
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + (constants.signals[signal] ?? 0);
  return code ?? 1;
}
