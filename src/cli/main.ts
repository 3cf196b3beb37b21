// `runguard <noun> <verb>`: thin commands over the same code the API uses.
import { resolve } from "node:path";
import { Command } from "commander";
import { registerUp } from "./up.js";
import { registerEnv } from "./env.js";
import { registerToken } from "./token.js";
import { registerLogs } from "./logs.js";
import { registerIam } from "./iam.js";
import { registerGroups } from "./groups.js";
import { registerUsers } from "./users.js";
import { registerImages } from "./images.js";
import { registerServices } from "./services.js";
import { registerVpc } from "./vpc.js";
import { registerAudit } from "./audit.js";
import { registerLb } from "./lb.js";
import { registerBuild } from "./build.js";
import { printableMessage } from "./terminal.js";
import { registerState } from "./state.js";
import { registerExec } from "./exec.js";

export function buildCli(): Command {
  const program = new Command("runguard")
    .description("Google Cloud Run's security model, running for real on this machine.")
    .option("--data-dir <dir>", "runguard's data directory", process.env["RUNGUARD_DATA_DIR"] ?? ".runguard")
    .option(
      "--kek-file <path>",
      "the key-encryption key (32 bytes, base64), kept outside the data directory (or RUNGUARD_KEK_FILE, RUNGUARD_KEK)",
    )
    .showHelpAfterError();
  // Every command reads the KEK the same way (secrets/key-encryption-key.ts), so the option travels as its variable;
  // instances never inherit runguard's environment.
  program.hook("preAction", (_program, action) => {
    const { kekFile } = action.optsWithGlobals() as { kekFile?: string };
    if (kekFile) process.env["RUNGUARD_KEK_FILE"] = resolve(kekFile);
  });
  registerUp(program);
  registerEnv(program);
  registerToken(program);
  registerLogs(program);
  registerIam(program);
  registerGroups(program);
  registerUsers(program);
  registerImages(program);
  registerServices(program);
  registerVpc(program);
  registerAudit(program);
  registerLb(program);
  registerBuild(program);
  registerState(program);
  registerExec(program);
  return program;
}

/**
 * A reader that goes away early (`runguard services list | head -1`) ends the output, not the command: the rest
 * is dropped (Node ignores SIGPIPE, so the write fails with EPIPE instead), and `up` keeps serving.
 */
function dropOutputOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") return;
    throw error;
  });
}

export async function main(argv: string[]): Promise<void> {
  dropOutputOnClosedPipe(process.stdout);
  dropOutputOnClosedPipe(process.stderr);
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    // The message may quote a file's or a caller's words: shown without control characters.
    console.error(`ERROR: ${printableMessage(error instanceof Error ? error.message : String(error))}`);
    process.exitCode = 1;
  }
}
