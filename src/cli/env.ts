// `runguard env`: the shell lines that point the real gcloud CLI and Google's client libraries at this runguard,
// as any principal.
import type { Command } from "commander";
import { gcloudEnv, toShellExports } from "../app/gcloud-env.js";
import { signInGcloudAs } from "../app/local-credentials.js";
import { ensureUser } from "../accounts/users.js";
import { dataDirOf, defaultOwner, openLocal, signedIn } from "./local.js";

export function registerEnv(program: Command): void {
  program
    .command("env")
    .description('print the shell lines that point gcloud and client libraries at runguard (eval "$(runguard env)")')
    .option("--as <principal>", "act as user:EMAIL or serviceAccount:EMAIL (default: the owner)")
    .option("--format <format>", "sh or json", "sh")
    .action(async (options: { as?: string; format: string }, command: Command) => {
      const session = await openLocal(dataDirOf(command));
      try {
        const principal = signedIn(options.as ?? defaultOwner(session));
        if (principal.kind === "user") await ensureUser(session, principal.email);
        const env = gcloudEnv({
          apiUrl: session.endpoints.api,
          projectId: session.endpoints.projectId,
          region: session.endpoints.region,
          configDir: await signInGcloudAs(session, session.dataDir, principal),
          caBundlePath: session.endpoints.caBundlePath,
        });
        console.log(options.format === "json" ? JSON.stringify(env, null, 2) : toShellExports(env));
      } finally {
        await session.close();
      }
    });
}
