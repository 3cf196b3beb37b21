// `runguard iam explain` and `runguard iam who-can`: answered from the store, with the same engine the
// platform uses, so they work whether or not runguard is running.
import type { Command } from "commander";
import { createPolicyEngine } from "../iam/engine.js";
import { loadEngine } from "../app/engine-sync.js";
import { parsePrincipal } from "../iam/principal-parse.js";
import { dataDirOf, openLocal } from "./local.js";
import { formatExplanation, ingressVerdict } from "./format-explanation.js";

export function registerIam(program: Command): void {
  const iam = program.command("iam").description("explain IAM decisions");
  iam
    .command("explain")
    .description("is PRINCIPAL allowed PERMISSION on RESOURCE, and why")
    .argument("<principal>", "user:EMAIL, serviceAccount:EMAIL or allUsers")
    .argument("<permission>", "e.g. run.routes.invoke")
    .argument("<resource>", "e.g. projects/P/locations/R/services/S")
    .option("--json", "print the explanation as JSON", false)
    .action(
      async (principal: string, permission: string, resource: string, options: { json: boolean }, command: Command) => {
        const session = await openLocal(dataDirOf(command));
        try {
          const engine = createPolicyEngine({ clock: session.clock });
          await loadEngine(session.store, engine);
          const explanation = engine.explain(parsePrincipal(principal), permission, resource);
          const ingress = await ingressVerdict(session.store, resource);
          const json = { ...explanation, ...(ingress ? { ingress } : {}) };
          console.log(options.json ? JSON.stringify(json, null, 2) : formatExplanation(explanation, ingress));
          if (!explanation.allowed) process.exitCode = 3;
        } finally {
          await session.close();
        }
      },
    );
  iam
    .command("who-can")
    .description("every principal holding PERMISSION on RESOURCE, and through which binding")
    .argument("<permission>")
    .argument("<resource>")
    .option("--json", "print as JSON", false)
    .action(async (permission: string, resource: string, options: { json: boolean }, command: Command) => {
      const session = await openLocal(dataDirOf(command));
      try {
        const engine = createPolicyEngine({ clock: session.clock });
        await loadEngine(session.store, engine);
        const holders = engine.whoCan(permission, resource);
        if (options.json) console.log(JSON.stringify(holders, null, 2));
        else for (const h of holders) console.log(`${h.member}  via ${h.grant.role} on ${h.grant.resource}`);
      } finally {
        await session.close();
      }
    });
}
