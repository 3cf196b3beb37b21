// `runguard build`: a directory with a Dockerfile into the local image store, with no network, ready for
// `gcloud run deploy --image`.
import { resolve } from "node:path";
import type { Command } from "commander";
import { buildImage, defaultTagFor } from "../containers/podman-build.js";

/** A Cloud Run service name from the image's last path segment: lowercase letters, digits and hyphens. */
function serviceNameFor(reference: string): string {
  const repository = reference.replace(/:[^/:]*$/, "");
  const last = repository.slice(repository.lastIndexOf("/") + 1);
  const name = last
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^[^a-z]+|-+$/g, "")
    .slice(0, 49);
  return name || "my-service";
}

function collectBuildArg(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf("=");
  if (at <= 0) throw new Error(`--build-arg takes NAME=VALUE, not '${value}'`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

export function registerBuild(program: Command): void {
  program
    .command("build")
    .description("build DIR's Dockerfile into the local image store with podman (no network), to deploy with --image")
    .argument("[dir]", "the build context, with a Dockerfile or Containerfile", ".")
    .option("--tag <ref>", "the image reference (default: localhost/<dir name>:latest)")
    .option("--file <path>", "the Dockerfile, if not DIR/Dockerfile or DIR/Containerfile")
    .option("--build-arg <name=value>", "a build argument (repeatable)", collectBuildArg, {})
    .option("-q, --quiet", "print only REF@DIGEST, e.g. gcloud run deploy app --image=$(runguard build -q .)")
    .action(
      async (
        dir: string,
        options: { tag?: string; file?: string; buildArg: Record<string, string>; quiet?: boolean },
      ) => {
        const contextDir = resolve(dir);
        const tag = options.tag ?? defaultTagFor(contextDir);
        const built = await buildImage({
          contextDir,
          tag,
          ...(options.file ? { file: resolve(options.file) } : {}),
          buildArgs: options.buildArg,
          // Progress goes to stderr so stdout stays the result (and `-q` output can be captured).
          ...(options.quiet ? {} : { onProgress: (line: string) => process.stderr.write(`${line}\n`) }),
        });
        const pinned = `${built.reference.replace(/:[^/:]*$/, "")}@${built.digest}`;
        if (options.quiet) {
          console.log(pinned);
          return;
        }
        console.log(`Built ${built.reference}`);
        console.log(`  digest: ${built.digest}`);
        console.log(`  image:  ${pinned}`);
        console.log(`Deploy it: gcloud run deploy ${serviceNameFor(built.reference)} --image=${built.reference}`);
      },
    );
}
