// `runguard up`: start everything in the foreground, print the endpoints, shut down cleanly on Ctrl-C.
import type { Command } from "commander";
import { parseConfig } from "../core/config.js";
import { startRunguard } from "../app/runguard.js";
import { dataDirOf } from "./local.js";

export function registerUp(program: Command): void {
  program
    .command("up")
    .description("start runguard in the foreground (Ctrl-C stops it)")
    .option("--project <id>", "project created on first start", process.env["RUNGUARD_PROJECT"])
    .option("--owner <email>", "the local developer, owner of the project", process.env["RUNGUARD_OWNER"])
    .option("--port <port>", "control-plane API port (also gcloud's proxy)", process.env["RUNGUARD_PORT"])
    .option("--region <region>", "default region", process.env["RUNGUARD_REGION"])
    .action(async (options: { project?: string; owner?: string; port?: string; region?: string }, command: Command) => {
      const config = parseConfig({
        dataDir: dataDirOf(command),
        ...(options.project ? { projectId: options.project } : {}),
        ...(options.owner ? { ownerEmail: options.owner } : {}),
        ...(options.port ? { apiPort: Number(options.port) } : {}),
        ...(options.region ? { region: options.region } : {}),
      });
      const runguard = await startRunguard(config);
      const { endpoints } = runguard;
      console.log(`runguard is up (data in ${config.dataDir})`);
      console.log(`  project:        ${endpoints.projectId} (number ${endpoints.projectNumber}), owner ${config.ownerEmail}`);
      console.log(`  control plane:  ${endpoints.api}  (Google APIs; gcloud's HTTP proxy)`);
      console.log(`  point gcloud:   eval "$(runguard env)"   or as someone else: eval "$(runguard env --as user:alice@example.com)"`);
      await waitForSignal();
      console.log("\nrunguard is shutting down...");
      await runguard.close();
      console.log("stopped.");
    });
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
