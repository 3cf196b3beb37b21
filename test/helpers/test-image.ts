// Container images for tests, built here with podman and no network: a base made of this machine's own `node`
// (and, when asked, the Cloud SDK's Python with google.auth) plus the shared libraries `ldd` lists, and app
// images FROM that base. Bases are built once per content (a label holds a fingerprint) and reused after.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
export const SDK_PYTHON = "/usr/lib/google-cloud-sdk/platform/bundledpythonunix";
const SDK_THIRD_PARTY = "/usr/lib/google-cloud-sdk/lib/third_party";
/** What google.auth with its requests transport needs from the Cloud SDK's third_party directory. */
const PYTHON_PACKAGES = [
  "google",
  "cachetools",
  "pyasn1",
  "pyasn1_modules",
  "rsa",
  "requests",
  "urllib3",
  "certifi",
  "idna",
  "chardet",
  "six",
];

export function podmanAvailable(): boolean {
  return spawnSync("podman", ["--version"], { stdio: "ignore" }).status === 0;
}

function podman(args: string[], input?: string): string {
  return execFileSync("podman", args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] }).trim();
}

function imageExists(ref: string): boolean {
  return spawnSync("podman", ["image", "exists", ref], { stdio: "ignore" }).status === 0;
}

/** Copies `file` (following links) into `root` at its own path, and every shared library it loads. */
function copyWithLibraries(root: string, file: string): void {
  const target = join(root, file);
  mkdirSync(dirname(target), { recursive: true });
  if (!existsSync(target)) copyFileSync(file, target);
  const ldd = spawnSync("ldd", [file], { encoding: "utf8" });
  for (const library of ldd.stdout.match(/\/[^\s)]+/g) ?? []) {
    if (!existsSync(library)) continue;
    const libraryTarget = join(root, library);
    if (existsSync(libraryTarget)) continue;
    mkdirSync(dirname(libraryTarget), { recursive: true });
    copyFileSync(library, libraryTarget);
  }
}

/** The npm packages `names` need, found by following `dependencies` in this repository's node_modules. */
export function packageClosure(names: string[]): string[] {
  const seen = new Set<string>();
  const top = join(REPO, "node_modules");
  // A package's dependencies resolve as Node resolves them: its own nested node_modules first (copied with it),
  // then the top level, whose packages join the closure.
  const visitDir = (dir: string, visited: Set<string>) => {
    if (visited.has(dir)) return;
    visited.add(dir);
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) return;
    const json = JSON.parse(readFileSync(manifest, "utf8")) as { dependencies?: Record<string, string> };
    for (const dependency of Object.keys(json.dependencies ?? {})) {
      const nested = join(dir, "node_modules", dependency);
      if (existsSync(join(nested, "package.json"))) visitDir(nested, visited);
      else visitTop(dependency, visited);
    }
  };
  const visitTop = (name: string, visited: Set<string>) => {
    if (!existsSync(join(top, name, "package.json"))) return;
    seen.add(name);
    visitDir(join(top, name), visited);
  };
  const visited = new Set<string>();
  for (const name of names) visitTop(name, visited);
  return [...seen].sort();
}

export interface BaseOptions {
  /** The Cloud SDK's Python and google.auth, at /usr/local/python (python3 on PATH). */
  python?: boolean;
  /** npm packages (with their dependencies) under /app/node_modules. */
  npmPackages?: string[];
}

/** A base image with node (and optionally Python), /etc/passwd with `app` (1000), /tmp and CA certificates. */
export function buildBaseImage(options: BaseOptions = {}): string {
  const packages = packageClosure(options.npmPackages ?? []);
  const fingerprint = createHash("sha256")
    .update(JSON.stringify([process.execPath, process.version, options.python ?? false, packages]))
    .digest("hex")
    .slice(0, 16);
  const ref = `localhost/runguard-test/base:${fingerprint}`;
  if (imageExists(ref)) return ref;
  const context = mkdtempSync(join(tmpdir(), "runguard-image-"));
  try {
    const root = join(context, "root");
    mkdirSync(join(root, "tmp"), { recursive: true, mode: 0o1777 });
    mkdirSync(join(root, "etc/ssl/certs"), { recursive: true });
    mkdirSync(join(root, "app"), { recursive: true });
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/app:/bin/sh\n");
    writeFileSync(join(root, "etc/group"), "root:x:0:\napp:x:1000:\n");
    copyFileSync("/etc/ssl/certs/ca-certificates.crt", join(root, "etc/ssl/certs/ca-certificates.crt"));
    copyWithLibraries(root, process.execPath);
    mkdirSync(join(root, "usr/local/bin"), { recursive: true });
    if (process.execPath !== "/usr/local/bin/node")
      cpSync(process.execPath, join(root, "usr/local/bin/node"), { dereference: true });
    for (const name of packages)
      cpSync(join(REPO, "node_modules", name), join(root, "app/node_modules", name), {
        recursive: true,
        dereference: true,
      });
    if (options.python) {
      cpSync(SDK_PYTHON, join(root, "usr/local/python"), { recursive: true, dereference: true });
      copyWithLibraries(root, join(SDK_PYTHON, "bin/python3"));
      for (const name of PYTHON_PACKAGES.filter((name) => existsSync(join(SDK_THIRD_PARTY, name))))
        cpSync(join(SDK_THIRD_PARTY, name), join(root, "usr/local/python/site", name), { recursive: true });
    }
    const env = options.python
      ? ["ENV PATH=/usr/local/bin:/usr/local/python/bin:/usr/bin:/bin", "ENV PYTHONPATH=/usr/local/python/site"]
      : ["ENV PATH=/usr/local/bin:/usr/bin:/bin"];
    writeFileSync(
      join(context, "Containerfile"),
      ["FROM scratch", "COPY root/ /", ...env, `LABEL runguard.test.fingerprint=${fingerprint}`, ""].join("\n"),
    );
    podman(["build", "--pull=never", "-q", "-t", ref, context]);
    return ref;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

export interface AppImageOptions extends BaseOptions {
  /** Files of the app: path inside the image → path on this machine. */
  files: Record<string, string>;
  /** Containerfile instructions after FROM and the COPY of the files (WORKDIR, USER, ENTRYPOINT, CMD, ENV...). */
  instructions: string[];
}

/** Builds `tag` FROM a base image; returns the image's digest (sha256:…). */
export function buildAppImage(tag: string, options: AppImageOptions): string {
  const base = buildBaseImage(options);
  const context = mkdtempSync(join(tmpdir(), "runguard-image-"));
  try {
    const copies: string[] = [];
    let index = 0;
    for (const [inside, host] of Object.entries(options.files)) {
      const name = `f${index++}`;
      cpSync(host, join(context, name), { recursive: true, dereference: true });
      copies.push(`COPY ${name} ${inside}`);
    }
    writeFileSync(join(context, "Containerfile"), [`FROM ${base}`, ...copies, ...options.instructions, ""].join("\n"));
    podman(["build", "--pull=never", "-q", "-t", tag, context]);
    return imageDigestOf(tag);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

export function imageDigestOf(ref: string): string {
  return podman(["image", "inspect", "--format", "{{.Digest}}", ref]);
}

export function removeImage(ref: string): void {
  spawnSync("podman", ["rmi", "-f", ref], { stdio: "ignore" });
}

export const fixtureApp = (name: string) => join(REPO, "test/fixtures/apps", name);
