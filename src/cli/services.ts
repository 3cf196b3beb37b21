// `runguard services list`: each service's URLs and the loopback port that reaches it without a Host header.
import type { Command } from "commander";
import type { StoredService } from "../run/types.js";
import { urlsOf } from "../run/render.js";
import { dataDirOf, openLocal } from "./local.js";

export function registerServices(program: Command): void {
  const services = program.command("services").description("how to reach the services");
  services.command("list").action(async (_options: unknown, command: Command) => {
    const session = await openLocal(dataDirOf(command));
    try {
      for (const service of await session.store.list<StoredService>("service")) {
        const port = (await session.store.get<{ port: number }>("setting", `servicePorts/${service.resource}`))?.port;
        console.log(`${service.name} (${service.region})`);
        for (const url of urlsOf(service, session.endpoints.projectNumber)) console.log(`  ${url}`);
        console.log(
          `  via the front end: curl -H "Host: ${new URL(urlsOf(service, session.endpoints.projectNumber)[0] ?? "").host}" ${session.endpoints.frontEnd}/`,
        );
        if (port) console.log(`  without a Host header: http://127.0.0.1:${port}/`);
      }
    } finally {
      await session.close();
    }
  });
}
