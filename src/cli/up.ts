// `runguard up`: start everything in the foreground, print the endpoints, shut down cleanly on Ctrl-C.
import type { Command } from "commander";
import { parseConfig } from "../core/config.js";
import { dataDirOf } from "./local.js";
import { createLogger } from "../app/logger.js";
import { installProcessGuard } from "../app/process-guard.js";
import { serveWithNodeFlags } from "../app/node-flags.js";
import { loadDeclaredConfig, applyDeclaredConfig } from "./up-state.js";
import { createTerminal, wantsColour } from "./terminal.js";

interface UpOptions {
  project?: string;
  owner?: string;
  port?: string;
  region?: string;
  frontEndPort?: string;
  lbPort?: string;
  lbHttpsPort?: string;
  oidcIssuer?: string;
  oidcClientId?: string;
  requestLogMaxAge?: string;
  requestLogMaxSize?: string;
  pendingSignIns?: string;
  demo: boolean;
  exitAfterDemo: boolean;
  config?: string;
  quiet: boolean;
}

export function registerUp(program: Command): void {
  program
    .command("up")
    .description("start runguard in the foreground (Ctrl-C stops it)")
    .option("--project <id>", "project created on first start", process.env["RUNGUARD_PROJECT"])
    .option("--owner <email>", "the local developer, owner of the project", process.env["RUNGUARD_OWNER"])
    .option("--port <port>", "control-plane API port (also gcloud's proxy)", process.env["RUNGUARD_PORT"])
    .option("--region <region>", "default region", process.env["RUNGUARD_REGION"])
    .option("--front-end-port <port>", "the front end's port (service URLs)", process.env["RUNGUARD_FRONT_END_PORT"])
    .option(
      "--lb-port <port>",
      "the load balancer's port (domains mapped to backend services)",
      process.env["RUNGUARD_LB_PORT"],
    )
    .option(
      "--lb-https-port <port>",
      "the load balancer's HTTPS port (certificates from runguard's local CA)",
      process.env["RUNGUARD_LB_HTTPS_PORT"],
    )
    .option(
      "--oidc-issuer <url>",
      "sign IAP's browser users in with this OpenID Connect provider instead of runguard's local users",
      process.env["RUNGUARD_OIDC_ISSUER"],
    )
    .option(
      "--oidc-client-id <id>",
      "the OAuth client registered at that provider (secret: RUNGUARD_OIDC_CLIENT_SECRET)",
      process.env["RUNGUARD_OIDC_CLIENT_ID"],
    )
    .option(
      "--request-log-max-age <days>",
      "delete request logs older than this (default 30)",
      process.env["RUNGUARD_REQUEST_LOG_MAX_AGE_DAYS"],
    )
    .option(
      "--request-log-max-size <bytes>",
      "delete the oldest request logs past this size, e.g. 500MB (default 1GB)",
      process.env["RUNGUARD_REQUEST_LOG_MAX_SIZE"],
    )
    .option(
      "--pending-sign-ins <count>",
      "IAP sign-ins in progress remembered at most, the oldest dropped (default 10000)",
      process.env["RUNGUARD_PENDING_SIGN_INS"],
    )
    .option("--config <file>", "apply this state file at start (default: ./runguard.yaml when it exists)")
    .option("--quiet", "print only the banner and errors: no line per request, instance output or change", false)
    .option("--demo", "deploy demo services and show calls succeeding and failing as on Cloud Run", false)
    .option("--exit-after-demo", "stop after the demo (exit code 0 when every call answered as on Cloud Run)", false)
    .action(async (options: UpOptions, command: Command) => {
      const launched = await serveWithNodeFlags();
      if (launched !== undefined) {
        process.exitCode = launched;
        return;
      }
      // Read before anything starts: a bad file stops `up` with its error, and it may name the project.
      const declared = await loadDeclaredConfig(options.config);
      const projectId = options.project ?? declared?.state.project;
      const config = parseConfig({
        dataDir: dataDirOf(command),
        ...(projectId ? { projectId } : {}),
        ...(options.owner ? { ownerEmail: options.owner } : {}),
        ...(options.port ? { apiPort: Number(options.port) } : {}),
        ...(options.region ? { region: options.region } : {}),
        ...(options.frontEndPort ? { frontEndPort: Number(options.frontEndPort) } : {}),
        ...(options.lbPort ? { lbPort: Number(options.lbPort) } : {}),
        ...(options.lbHttpsPort ? { lbHttpsPort: Number(options.lbHttpsPort) } : {}),
        ...(options.requestLogMaxAge ? { requestLogMaxAgeDays: Number(options.requestLogMaxAge) } : {}),
        ...(options.requestLogMaxSize ? { requestLogMaxBytes: parseByteSize(options.requestLogMaxSize) } : {}),
        ...(options.pendingSignIns ? { pendingSignInMaxCount: Number(options.pendingSignIns) } : {}),
        ...(options.oidcIssuer
          ? {
              oidc: {
                issuer: options.oidcIssuer,
                clientId: options.oidcClientId ?? "",
                clientSecret: process.env["RUNGUARD_OIDC_CLIENT_SECRET"] ?? "",
              },
            }
          : {}),
      });
      // Before anything listens: an error a handler missed is logged, and runguard keeps serving.
      installProcessGuard(createLogger());
      // Loaded here, not at the top: the launcher of serveWithNodeFlags never needs them (half a second of imports).
      const { startRunguard } = await import("../app/runguard.js");
      const terminal = options.quiet
        ? undefined
        : createTerminal({ fd: 1, colour: wantsColour(process.env, process.stdout.isTTY === true) });
      const runguard = await startRunguard(config, terminal ? { live: terminal.sink } : {}).catch(async (error) => {
        await terminal?.stop(0);
        throw error;
      });
      const { endpoints } = runguard;
      console.log(`runguard is up (data in ${config.dataDir})`);
      console.log(
        `  project:        ${endpoints.projectId} (number ${endpoints.projectNumber}), owner ${config.ownerEmail}`,
      );
      console.log(`  control plane:  ${endpoints.api}  (Google APIs; gcloud's HTTP proxy)`);
      console.log(`  front end:      ${endpoints.frontEnd}  (service URLs, routed by Host)`);
      console.log(
        `  load balancer:  ${endpoints.loadBalancer} and ${endpoints.loadBalancerHttps}  (domains mapped with runguard lb map; IAP)`,
      );
      console.log(`  local CA:       ${endpoints.caCertificatePath}  (trust it to call the load balancer over HTTPS)`);
      console.log(
        `  isolation:      ${endpoints.isolation === "netns" ? "a network namespace per instance (egress enforced for every protocol)" : "host network (egress enforced through the proxy variables)"}`,
      );
      console.log(
        `  containers:     ${endpoints.containers === "available" ? "images in the local container store (podman) run under runc" : `unavailable: ${endpoints.containers}; only 'runguard images add' entries run`}`,
      );
      const { confinement } = endpoints;
      const inForce = [
        confinement.uidPerInstance ? "a uid of its own" : "",
        confinement.noCapabilities ? "no capabilities" : "",
        confinement.pidNamespace ? "its own PID and mount namespaces" : "",
      ].filter(Boolean);
      console.log(`  confinement:    each instance runs with ${inForce.join(", ") || "no confinement"}`);
      for (const missing of confinement.missing) console.log(`  missing:        ${missing}`);
      if (declared) await applyDeclaredConfig(runguard, declared);
      console.log(
        `  point gcloud:   eval "$(runguard env)"   or as someone else: eval "$(runguard env --as user:alice@example.com)"`,
      );
      // From here on, each request, instance line and change gets a line (written in the terminal's own thread).
      terminal?.start();
      let exitWhenDone = false;
      /** Writes what the terminal holds (briefly: a reader that does not read must not hold up the exit). */
      const stopTerminal = async () => {
        if (terminal && !(await terminal.stop(TERMINAL_FLUSH_MS))) exitWhenDone = true;
      };
      if (options.demo) {
        const { runDemo } = await import("../../examples/demo/demo.js");
        const asExpected = await runDemo(runguard);
        if (options.exitAfterDemo) {
          await runguard.close();
          await stopTerminal();
          process.exitCode = asExpected ? 0 : 1;
          if (exitWhenDone) process.exit();
          return;
        }
      }
      await waitForSignal();
      await stopTerminal();
      console.log("\nrunguard is shutting down...");
      await runguard.close();
      console.log("stopped.");
      // The terminal's thread is blocked writing to a reader that stopped reading: it would hold the exit forever.
      if (exitWhenDone) process.exit();
    });
}

/** How long a stopping `up` waits for the terminal to take what is still queued. */
const TERMINAL_FLUSH_MS = 1000;

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KIB: 1024,
  MIB: 1024 ** 2,
  GIB: 1024 ** 3,
};

/** "1GB", "500MB", "64KiB" or a number of bytes; anything else is NaN, which the config refuses. */
export function parseByteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? BYTE_UNITS[(match[2] ?? "").toUpperCase()] : undefined;
  return match && unit !== undefined ? Math.round(Number(match[1]) * unit) : Number.NaN;
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
