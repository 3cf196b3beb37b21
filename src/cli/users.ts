// `runguard users`: local users who can sign in on IAP's browser page. Passwords are read from stdin (or
// RUNGUARD_USER_PASSWORD), never from a flag, so they stay out of process listings and shell history.
import type { Command } from "commander";
import { callApi, dataDirOf, defaultOwner, openLocal, signedIn, type LocalSession } from "./local.js";

async function readPassword(): Promise<string> {
  const fromEnv = process.env["RUNGUARD_USER_PASSWORD"];
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY) process.stderr.write("Password (then Enter and Ctrl-D): ");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

async function withSession<T>(command: Command, run: (session: LocalSession) => Promise<T>): Promise<T> {
  const session = await openLocal(dataDirOf(command));
  try {
    return await run(session);
  } finally {
    await session.close();
  }
}

export function registerUsers(program: Command): void {
  const users = program.command("users").description("local users who sign in on IAP's page");
  users
    .command("add")
    .description("create a user (or change the password); the password is read from stdin")
    .argument("<email>", "the user's email, as in user:EMAIL bindings")
    .option("--as <principal>", "the caller (default: the owner)")
    .action(async (email: string, options: { as?: string }, command: Command) => {
      const password = await readPassword();
      await withSession(command, async (session) => {
        const result = await callApi(
          session,
          signedIn(options.as ?? defaultOwner(session)),
          "POST",
          `/runguard/v1/users/${encodeURIComponent(email)}:setPassword`,
          { password },
        );
        console.log(JSON.stringify(result, null, 2));
      });
    });
  users
    .command("list")
    .option("--as <principal>", "the caller (default: the owner)")
    .action(async (options: { as?: string }, command: Command) => {
      await withSession(command, async (session) => {
        const result = await callApi(
          session,
          signedIn(options.as ?? defaultOwner(session)),
          "GET",
          "/runguard/v1/users",
        );
        console.log(JSON.stringify(result, null, 2));
      });
    });
}
