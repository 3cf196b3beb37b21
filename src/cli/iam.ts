// `runguard iam explain` and `runguard iam who-can`: answered from the store, with the same engine the
// platform uses, so they work whether or not runguard is running.
import type { Command } from "commander";
import { createPolicyEngine } from "../iam/engine.js";
import { loadEngine } from "../app/engine-sync.js";
import { parsePrincipal } from "../iam/principal-parse.js";
import { dataDirOf, openLocal, type LocalSession } from "./local.js";
import { formatExplanation, ingressVerdict } from "./format-explanation.js";
import type { Kind } from "../store/store.js";
import type { Project } from "../accounts/projects.js";

/** Resource names whose existence the store can tell, with the kind that holds them. */
const KNOWN_RESOURCES: Array<[RegExp, Kind]> = [
  [/^projects\/[^/]+$/, "project"],
  [/^projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+$/, "service"],
  [/^projects\/[^/]+\/secrets\/[^/]+$/, "secret"],
  [/^projects\/[^/]+\/secrets\/[^/]+\/versions\/\d+$/, "secretVersion"],
  [/^projects\/[^/]+\/serviceAccounts\/[^/]+$/, "serviceAccount"],
];

/**
 * The full name of what the user named: a bare name is a service in the default project and region (as gcloud
 * takes `my-api`), a project number becomes its id; a resource that does not exist is refused, so a typo is
 * never answered DENIED.
 */
async function resolveResource(session: LocalSession, text: string): Promise<string> {
  const { projectId, region } = session.endpoints;
  let resource = text.includes("/")
    ? text.replace(/\/+$/, "")
    : `projects/${projectId}/locations/${region}/services/${text}`;
  const project = /^projects\/(\d+)(\/|$)/.exec(resource)?.[1];
  if (project) {
    const found = (await session.store.list<Project>("project")).find((p) => p.projectNumber === project);
    if (found) resource = resource.replace(`projects/${project}`, `projects/${found.projectId}`);
  }
  const known = KNOWN_RESOURCES.find(([pattern]) => pattern.test(resource));
  if (known && !(await session.store.get(known[1], resource))) {
    throw new Error(`unknown resource '${resource}': no such ${known[1]} in runguard.`);
  }
  return resource;
}

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
          const target = await resolveResource(session, resource);
          const explanation = engine.explain(parsePrincipal(principal), permission, target);
          const ingress = await ingressVerdict(session.store, target);
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
        const holders = engine.whoCan(permission, await resolveResource(session, resource));
        if (options.json) console.log(JSON.stringify(holders, null, 2));
        else for (const h of holders) console.log(`${h.member}  via ${h.grant.role} on ${h.grant.resource}`);
      } finally {
        await session.close();
      }
    });
}
