// Building an image from a directory with podman, never over the network: `--pull=never` (a base image must
// already be in the local store) and `--network=none` (RUN steps have no network either). Bases missing from
// the store are named before the build starts; podman's own "image not known" is the fallback.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { ApiError, failedPrecondition, invalidArgument } from "../core/errors.js";
import { baseImagesOf } from "./dockerfile-bases.js";

export interface BuildRequest {
  /** The build context. */
  contextDir: string;
  /** The Dockerfile or Containerfile; default: the one in contextDir. */
  file?: string;
  /** The reference the image is tagged with in the local store. */
  tag: string;
  buildArgs?: Readonly<Record<string, string>>;
  /** Each line podman prints while building (STEP n/m, RUN output, COMMIT). */
  onProgress?: (line: string) => void;
  timeoutMs?: number;
}

export interface BuiltImage {
  reference: string;
  imageId: string;
  /** sha256:…, the digest the store and `gcloud run revisions describe` show. */
  digest: string;
}

/** Base images a build needs that are not in the local store; runguard never pulls them. */
export class MissingBaseImagesError extends ApiError {
  readonly images: readonly string[];
  /** `uses`: each image with where the Dockerfile names it, e.g. "Dockerfile line 1". */
  constructor(uses: readonly { image: string; where: string }[]) {
    super("FAILED_PRECONDITION", missingBaseMessage(uses));
    this.name = "MissingBaseImagesError";
    this.images = uses.map((use) => use.image);
  }
}

function missingBaseMessage(uses: readonly { image: string; where: string }[]): string {
  const list = uses.map((use) => `'${use.image}' (${use.where})`).join(", ");
  const one = uses[0]?.image ?? "IMAGE";
  return [
    `${uses.length === 1 ? "The base image" : "The base images"} ${list} ${
      uses.length === 1 ? "is" : "are"
    } not in the local image store, and runguard never pulls images.`,
    `Make ${uses.length === 1 ? "it" : "each"} known: on a machine with network access, \`podman pull ${one}\` and ` +
      `\`podman save -o base.tar ${one}\`, then here \`podman load -i base.tar\`; or build it here with ` +
      `\`podman build -t ${one} DIR\` (or \`runguard build --tag ${one} DIR\`).`,
  ].join("\n");
}

const REFERENCE = /^[a-z0-9][a-z0-9._\-/:]{0,254}$/i;
const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const OUTPUT_KEPT = 30;
const PODMAN_TIMEOUT_MS = 60 * 60_000;

/** The Dockerfile (or Containerfile) a build of `contextDir` uses. */
export function dockerfileOf(contextDir: string, file?: string): string {
  if (!existsSync(contextDir) || !statSync(contextDir).isDirectory()) {
    throw invalidArgument(`The build directory '${contextDir}' does not exist or is not a directory.`);
  }
  if (file !== undefined) {
    if (!existsSync(file)) throw invalidArgument(`The file '${file}' does not exist.`);
    return file;
  }
  const found = ["Dockerfile", "Containerfile"].map((name) => join(contextDir, name)).find((path) => existsSync(path));
  if (!found) throw invalidArgument(`No Dockerfile or Containerfile in '${contextDir}'.`);
  return found;
}

/** `localhost/<directory name>:latest`, the name made valid for a repository. */
export function defaultTagFor(contextDir: string): string {
  const name = basename(resolve(contextDir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  return `localhost/${name || "app"}:latest`;
}

interface PodmanResult {
  code: number;
  /** The last lines podman printed, stdout and stderr together. */
  tail: string[];
}

function runPodman(args: string[], onLine: (line: string) => void, timeoutMs: number): Promise<PodmanResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("podman", args, { stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    const tail: string[] = [];
    const splitter = () => {
      let partial = "";
      return {
        push(chunk: Buffer) {
          const lines = (partial + chunk.toString("utf8")).split(/\r?\n/);
          partial = lines.pop() ?? "";
          lines.forEach(emit);
        },
        end: () => partial && emit(partial),
      };
    };
    const emit = (line: string) => {
      tail.push(line);
      if (tail.length > OUTPUT_KEPT) tail.shift();
      onLine(line);
    };
    const out = splitter();
    const err = splitter();
    child.stdout.on("data", out.push);
    child.stderr.on("data", err.push);
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") reject(podmanMissing());
      else reject(error);
    });
    child.on("close", (code, signal) => {
      out.end();
      err.end();
      resolvePromise({ code: code ?? (signal ? 128 : 1), tail });
    });
  });
}

function podmanMissing(): ApiError {
  return failedPrecondition(
    "podman is not installed, and runguard builds images with it: install it (`apt-get install podman`, " +
      "which scripts/setup.sh does) and build again.",
  );
}

async function imageExists(reference: string): Promise<boolean> {
  const { code } = await runPodman(["image", "exists", reference], () => undefined, 30_000);
  return code === 0;
}

async function digestOf(imageId: string): Promise<string> {
  const lines: string[] = [];
  const { code, tail } = await runPodman(
    ["image", "inspect", "--format", "{{.Digest}}", imageId],
    (line) => lines.push(line),
    30_000,
  );
  const digest = lines.join("").trim();
  if (code !== 0 || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
    throw new ApiError("INTERNAL", `podman built image ${imageId} but did not give its digest: ${tail.join("\n")}`);
  }
  return digest;
}

/** podman's words for a base it could not find: `creating build container: REF: image not known`. */
function missingFromPodman(tail: readonly string[]): string | undefined {
  for (const line of tail) {
    const match = /(\S+): image not known/.exec(line);
    if (match?.[1]) return match[1];
  }
  return undefined;
}

/** Builds `request.contextDir` into the local store under `request.tag`; no network is used. */
export async function buildImage(request: BuildRequest): Promise<BuiltImage> {
  const dockerfile = dockerfileOf(request.contextDir, request.file);
  if (!REFERENCE.test(request.tag)) throw invalidArgument(`'${request.tag}' is not a valid image reference.`);
  const buildArgs = request.buildArgs ?? {};
  for (const name of Object.keys(buildArgs)) {
    if (!BUILD_ARG_NAME.test(name)) throw invalidArgument(`'${name}' is not a valid build argument name.`);
  }
  const bases = baseImagesOf(readFileSync(dockerfile, "utf8"), buildArgs);
  const missing: { image: string; where: string }[] = [];
  for (const base of bases) {
    if (!(await imageExists(base.image)))
      missing.push({ image: base.image, where: `${basename(dockerfile)} line ${base.line}` });
  }
  if (missing.length > 0) throw new MissingBaseImagesError(missing);
  const scratch = mkdtempSync(join(tmpdir(), "runguard-build-"));
  const idFile = join(scratch, "image-id");
  try {
    const args = [
      "build",
      "--pull=never",
      "--network=none",
      "--file",
      dockerfile,
      "--tag",
      request.tag,
      "--iidfile",
      idFile,
      ...Object.entries(buildArgs).flatMap(([name, value]) => ["--build-arg", `${name}=${value}`]),
      "--",
      request.contextDir,
    ];
    const { code, tail } = await runPodman(
      args,
      (line) => request.onProgress?.(line),
      request.timeoutMs ?? PODMAN_TIMEOUT_MS,
    );
    if (code !== 0) {
      const base = missingFromPodman(tail);
      if (base) throw new MissingBaseImagesError([{ image: base, where: `needed by ${basename(dockerfile)}` }]);
      throw invalidArgument(`The build failed (podman exited with ${code}):\n${tail.join("\n")}`);
    }
    const imageId = readFileSync(idFile, "utf8")
      .trim()
      .replace(/^sha256:/, "");
    return { reference: request.tag, imageId, digest: await digestOf(imageId) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
