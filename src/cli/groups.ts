// `runguard groups`: Google Groups (Cloud Identity) live outside projects, so runguard manages them itself.
import type { Command } from "commander";
import { callApi, dataDirOf, defaultOwner, openLocal, signedIn } from "./local.js";

export function registerGroups(program: Command): void {
  const groups = program.command("groups").description("manage groups and their members");
  for (const verb of ["add-member", "remove-member"] as const) {
    groups
      .command(verb)
      .argument("<group>", "the group's email")
      .argument("<member>", "user:EMAIL, serviceAccount:EMAIL or group:EMAIL")
      .option("--as <principal>", "the caller (default: the owner)")
      .action(async (group: string, member: string, options: { as?: string }, command: Command) => {
        const session = await openLocal(dataDirOf(command));
        try {
          const rpc = verb === "add-member" ? "addMember" : "removeMember";
          const result = await callApi(
            session,
            signedIn(options.as ?? defaultOwner(session)),
            "POST",
            `/runguard/v1/groups/${encodeURIComponent(group)}:${rpc}`,
            { member },
          );
          console.log(JSON.stringify(result, null, 2));
        } finally {
          await session.close();
        }
      });
  }
  groups
    .command("list")
    .option("--as <principal>", "the caller (default: the owner)")
    .action(async (options: { as?: string }, command: Command) => {
      const session = await openLocal(dataDirOf(command));
      try {
        const result = await callApi(
          session,
          signedIn(options.as ?? defaultOwner(session)),
          "GET",
          "/runguard/v1/groups",
        );
        console.log(JSON.stringify(result, null, 2));
      } finally {
        await session.close();
      }
    });
}
