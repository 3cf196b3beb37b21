// `runguard token`: an ID token to call a private service with. Users are signed in locally; a service
// account's token comes from IAM Credentials generateIdToken, so the caller needs
// roles/iam.serviceAccountTokenCreator on it exactly as on Google Cloud.
import type { Command } from "commander";
import { ensureUser } from "../accounts/users.js";
import { callApi, dataDirOf, defaultOwner, openLocal, signedIn } from "./local.js";

export function registerToken(program: Command): void {
  program
    .command("token")
    .description("print an OIDC ID token for a principal you may impersonate")
    .requiredOption("--audience <aud>", "the token's audience, e.g. the service URL")
    .option("--as <principal>", "the caller (default: the owner)")
    .option("--impersonate <serviceAccount>", "mint for this service account through IAM Credentials")
    .option("--include-email", "include the email claim (service accounts)", false)
    .action(
      async (
        options: { audience: string; as?: string; impersonate?: string; includeEmail: boolean },
        command: Command,
      ) => {
        const session = await openLocal(dataDirOf(command));
        try {
          const caller = signedIn(options.as ?? defaultOwner(session));
          if (options.impersonate) {
            const email = options.impersonate.replace(/^serviceAccount:/, "");
            const result = (await callApi(
              session,
              caller,
              "POST",
              `/v1/projects/-/serviceAccounts/${encodeURIComponent(email)}:generateIdToken`,
              { audience: options.audience, includeEmail: options.includeEmail },
            )) as { token: string };
            console.log(result.token);
            return;
          }
          if (caller.kind !== "user") {
            throw new Error("a service account's ID token comes from IAM Credentials: use --impersonate SA_EMAIL");
          }
          const user = await ensureUser(session, caller.email);
          console.log(
            await session.tokens.signIdToken({
              principal: caller,
              uniqueId: user.uniqueId,
              audience: options.audience,
              includeEmail: true,
            }),
          );
        } finally {
          await session.close();
        }
      },
    );
}
