// `runguard lb map DOMAIN --backend-service NAME`: the one-step URL map of the external load balancer.
import type { Command } from "commander";
import { callApi, dataDirOf, defaultOwner, openLocal, signedIn } from "./local.js";

export function registerLb(program: Command): void {
  const lb = program.command("lb").description("the external load balancer in front of backend services");
  lb.command("map")
    .argument("<domain>", "the domain name the load balancer answers for")
    .requiredOption("--backend-service <name>", "the global backend service (with its serverless NEG)")
    .action(async (domain: string, options: { backendService: string }, command: Command) => {
      const session = await openLocal(dataDirOf(command));
      try {
        const path = `/runguard/v1/projects/${session.endpoints.projectId}/loadBalancers`;
        await callApi(session, signedIn(defaultOwner(session)), "POST", path, {
          domain,
          backendService: options.backendService,
        });
        console.log(
          `${domain} → ${options.backendService}: curl -H "Host: ${domain}" ${session.endpoints.loadBalancer}/`,
        );
      } finally {
        await session.close();
      }
    });
}
