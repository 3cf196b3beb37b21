// `runguard logs`: read audit (and later request) log entries, newest first, filterable.
import type { Command } from "commander";
import { dataDirOf, openLocal } from "./local.js";

interface AuditPayload {
  methodName?: string;
  resourceName?: string;
  authenticationInfo?: { principalEmail?: string };
  status?: { code?: number; message?: string };
  authorizationInfo?: Array<{ permission: string; granted: boolean }>;
}

interface LogsOptions {
  log: string;
  principal?: string;
  method?: string;
  denied: boolean;
  limit: string;
  json: boolean;
}

export function registerLogs(program: Command): void {
  program
    .command("logs")
    .description("read audit log entries")
    .option("--log <name>", "activity, data_access, requests, or all", "all")
    .option("--principal <email>", "only calls by this principal")
    .option("--method <text>", "only methods containing this text")
    .option("--denied", "only denied calls", false)
    .option("--limit <n>", "at most this many entries", "50")
    .option("--json", "print the entries as JSON lines", false)
    .action(async (options: LogsOptions, command: Command) => {
      const session = await openLocal(dataDirOf(command));
      try {
        const prefix = `projects/${session.endpoints.projectId}/logs/`;
        const records = await session.store.readLogs({ logNamePrefix: prefix, newestFirst: true, limit: 10_000 });
        const matches = records.filter((record) => {
          if (options.log !== "all" && !record.logName.endsWith(`%2F${options.log}`)) return false;
          const payload = (record.entry["protoPayload"] ?? {}) as AuditPayload;
          if (options.principal && payload.authenticationInfo?.principalEmail !== options.principal) return false;
          if (options.method && !payload.methodName?.includes(options.method)) return false;
          if (options.denied && !payload.authorizationInfo?.some((a) => !a.granted)) return false;
          return true;
        });
        for (const record of matches.slice(0, Number(options.limit))) {
          if (options.json) {
            console.log(JSON.stringify(record.entry));
            continue;
          }
          const payload = (record.entry["protoPayload"] ?? {}) as AuditPayload;
          const outcome = payload.status?.code ? `DENIED/ERROR(${payload.status.code})` : "OK";
          console.log(
            `${record.timestamp}  ${outcome.padEnd(16)} ${payload.authenticationInfo?.principalEmail ?? "-"}  ${payload.methodName ?? ""}  ${payload.resourceName ?? ""}`,
          );
        }
      } finally {
        await session.close();
      }
    });
}
