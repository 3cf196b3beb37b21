// `runguard apply`, `export`, `reset` and `import`: the project as a file (docs/declarative.md). They open the data
// directory's store themselves, as the project's owner, whether `up` runs or not; a running `up` sees the
// changes on its next request (another process's commit reloads its caches).
import { existsSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import {
  applyState,
  exportState,
  loadState,
  projectMappingNote,
  renderState,
  resetState,
  withSecretValues,
  STATE_FILE_NAME,
  type ApplySummary,
  type StateChange,
} from "../declarative/index.js";
import { dataDirOf } from "./local.js";
import { openStateSession, type StateSession } from "./state-session.js";
import { printable, printableMessage } from "./terminal.js";

export function describeChange(change: StateChange): string {
  if (change.count !== undefined) return `  ${change.action} ${change.count} ${change.name}`;
  return `  ${change.action} ${change.kind} ${change.name}${change.detail ? ` (${change.detail})` : ""}`;
}

/** One line for the whole apply: what `up` prints, and the last line of `apply`. */
export function summaryLine(what: string, summary: ApplySummary): string {
  const count = (action: StateChange["action"]) => summary.changes.filter((c) => c.action === action).length;
  if (summary.changes.length === 0) return `${what}: no changes (${summary.unchanged} already as declared)`;
  return `${what}: ${count("created")} created, ${count("updated")} updated, ${summary.unchanged} unchanged`;
}

async function withState<T>(command: Command, work: (session: StateSession) => Promise<T>): Promise<T> {
  const session = await openStateSession(dataDirOf(command));
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

// Names and details come from the state file: printed without control characters.
const printChange = (change: StateChange) => console.log(printable(describeChange(change)));

async function confirmReset(projectId: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(
      `This deletes every service, secret, service account, group and policy of ${projectId}. Type yes to go on: `,
    );
    return answer.trim() === "yes";
  } finally {
    prompt.close();
  }
}

export function registerState(program: Command): void {
  program
    .command("apply")
    .description("make the project what a runguard.yaml (or a directory of exported files) declares")
    .option("-f, --file <path>", "the state file or directory", STATE_FILE_NAME)
    .action(async (options: { file: string }, command: Command) => {
      const state = await loadState(resolve(options.file));
      await withState(command, async (session) => {
        const summary = await applyState(session.platform, state, { onChange: printChange });
        for (const note of summary.notes) console.log(`note: ${printableMessage(note)}`);
        console.log(summaryLine(`applied ${options.file}`, summary));
      });
    });
  program
    .command("export")
    .description("write the project's state as runguard.yaml (secrets by name only, never their values)")
    .option("-o, --output <file>", "write to this file instead of stdout")
    .action(async (options: { output?: string }, command: Command) => {
      const text = await withState(command, async (session) => renderState(await exportState(session.platform)));
      if (!options.output) {
        process.stdout.write(text);
        return;
      }
      writeFileSync(options.output, text, { mode: 0o644 });
      console.log(`wrote ${options.output}`);
    });
  program
    .command("reset")
    .description("empty the project: services, secrets, service accounts, groups, policies, networks")
    .option("--yes", "do not ask", false)
    .action(async (options: { yes: boolean }, command: Command) => {
      await withState(command, async (session) => {
        const projectId = session.platform.config.projectId;
        if (!options.yes && !(await confirmReset(projectId)))
          throw new Error("reset deletes the whole project's state: run it again with --yes to go on.");
        const summary = await resetState(session.platform, { onChange: printChange });
        console.log(`reset ${projectId}: ${summary.changes.length === 0 ? "it was already empty" : "done"}`);
      });
    });
  program
    .command("import")
    .description("recreate a real project locally from its exported files (gcloud's YAML and JSON)")
    .argument("<dir>", "the directory of exported files")
    .option("--secret-values <file>", "a YAML map of secret name to value (otherwise placeholders)")
    .action(async (dir: string, options: { secretValues?: string }, command: Command) => {
      if (!existsSync(dir)) throw new Error(`${dir}: no such directory.`);
      const exported = await loadState(resolve(dir));
      const state = options.secretValues ? await withSecretValues(exported, resolve(options.secretValues)) : exported;
      await withState(command, async (session) => {
        const local = { projectId: session.platform.config.projectId, projectNumber: session.projectNumber };
        console.log(`importing ${dir} into ${local.projectId}`);
        const mapping = projectMappingNote(state, local);
        if (mapping) console.log(`note: ${printableMessage(mapping)}`);
        const secretsWithoutValue = state.secrets.filter((s) => s.value === undefined && s.valueFile === undefined);
        if (secretsWithoutValue.length > 0)
          console.log(
            `note: ${secretsWithoutValue.length === 1 ? "1 secret gets a placeholder value" : `${secretsWithoutValue.length} secrets get placeholder values`} (--secret-values FILE gives real ones)`,
          );
        const summary = await applyState(session.platform, state, { onChange: printChange, standInImages: true });
        for (const note of summary.notes.filter((n) => n !== mapping)) console.log(`note: ${printableMessage(note)}`);
        console.log(summaryLine(`imported ${dir}`, summary));
      });
    });
}
