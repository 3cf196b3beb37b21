// `runguard images`: the local image catalogue that lets `gcloud run deploy --image=REF` run local code.
import { resolve } from "node:path";
import type { Command } from "commander";
import { addImage, listImages } from "../run/images.js";
import { dataDirOf, openLocal } from "./local.js";

export function registerImages(program: Command): void {
  const images = program.command("images").description("map image references to local directories and commands");
  images
    .command("add")
    .description("runguard images add REF --dir ./app -- python3 app.py")
    .argument("<ref>", "image reference, e.g. us-docker.pkg.dev/my-project/repo/api")
    .requiredOption("--dir <dir>", "the directory the command runs in")
    .option("--port <port>", "the port the app always listens on, if it ignores $PORT")
    .argument("<command...>", "the command (after --)")
    .action(async (ref: string, command: string[], options: { dir: string; port?: string }, cmd: Command) => {
      const session = await openLocal(dataDirOf(cmd));
      try {
        const entry = await addImage(
          session.store,
          ref,
          resolve(options.dir),
          command,
          options.port ? Number(options.port) : undefined,
        );
        console.log(`Added image ${entry.ref} → (${entry.dir}) ${entry.command.join(" ")}`);
      } finally {
        await session.close();
      }
    });
  images.command("list").action(async (_options: unknown, cmd: Command) => {
    const session = await openLocal(dataDirOf(cmd));
    try {
      for (const image of await listImages(session.store)) {
        console.log(`${image.ref}${image.builtin ? " (built-in)" : ""}\n    ${image.dir}: ${image.command.join(" ")}`);
      }
    } finally {
      await session.close();
    }
  });
}
