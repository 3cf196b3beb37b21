// `runguard build` through the real CLI: a Dockerfile FROM a local base image into podman's store with no
// network at all (the CLI runs in a network namespace of its own with no interfaces), the digest it prints is
// the store's, and a base missing from the store is named with how to make it known.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildBaseImage, imageDigestOf, podmanAvailable, removeImage } from "../helpers/test-image.js";

const bin = fileURLToPath(new URL("../../../bin/runguard.js", import.meta.url));
const unshare = spawnSync("sh", ["-c", "command -v unshare"], { encoding: "utf8" }).stdout.trim();
const canUnshare = unshare !== "" && spawnSync(unshare, ["--net", "true"], { stdio: "ignore" }).status === 0;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as a user runs it, inside a network namespace with no interfaces when this machine allows one. */
function runguardOffline(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  const [file, argv] = canUnshare
    ? [unshare, ["--net", process.execPath, bin, ...args]]
    : [process.execPath, [bin, ...args]];
  return new Promise((resolve) => {
    execFile(file, argv, { env, timeout: 180_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe("runguard build", { skip: !podmanAvailable() && "podman is not installed" }, () => {
  let root: string;
  let base: string;
  const tags: string[] = [];

  before(() => {
    base = buildBaseImage();
    root = mkdtempSync(join(tmpdir(), "rg-build-"));
  });
  after(() => {
    tags.forEach(removeImage);
    rmSync(root, { recursive: true, force: true });
  });

  /** A build directory with an app file and `dockerfile`. */
  function appDir(name: string, dockerfile: string[]): string {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "server.js"), "console.log('hello from the image');\n");
    writeFileSync(join(dir, "Dockerfile"), [...dockerfile, ""].join("\n"));
    return dir;
  }

  it("builds FROM a local base with no network, tags it, and prints the store's digest", async () => {
    const dir = appDir("tagged", [
      `FROM ${base}`,
      "COPY server.js /app/server.js",
      `RUN ["/usr/local/bin/node", "-e", "require('fs').writeFileSync('/app/built', '${randomBytes(4).toString("hex")}')"]`,
      'CMD ["node", "/app/server.js"]',
    ]);
    const tag = `localhost/runguard-test/build-${randomBytes(4).toString("hex")}:1`;
    tags.push(tag);
    const result = await runguardOffline(["build", "--tag", tag, dir]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /STEP 1\/4: FROM /, "podman's progress is shown");
    const digest = imageDigestOf(tag);
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    assert.match(result.stdout, new RegExp(`Built ${tag}`));
    assert.match(result.stdout, new RegExp(`digest: ${digest}`));
    assert.match(result.stdout, /Deploy it: gcloud run deploy build-[0-9a-f]+ --image=/);
  });

  it("tags localhost/<dir name>:latest by default; -q prints only REF@DIGEST", async () => {
    const name = `rg-app-${randomBytes(4).toString("hex")}`;
    const dir = appDir(name, [`FROM ${base}`, "COPY server.js /app/server.js", 'CMD ["node", "/app/server.js"]']);
    const tag = `localhost/${basename(dir)}:latest`;
    tags.push(tag);
    const result = await runguardOffline(["build", "-q", dir]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), `localhost/${name}@${imageDigestOf(tag)}`);
    assert.equal(result.stderr, "", "-q prints no progress");
  });

  it("refuses a base that is not in the local store, naming it and how to make it known, without pulling", async () => {
    const missing = `docker.io/library/runguard-absent-${randomBytes(4).toString("hex")}:3.12-slim`;
    const dir = appDir("missing-base", [
      "ARG PY=" + missing,
      "FROM ${PY} AS runtime",
      "FROM runtime",
      "COPY server.js /app/",
    ]);
    const started = Date.now();
    const result = await runguardOffline(["build", "--tag", "localhost/runguard-test/never:1", dir]);
    assert.equal(result.code, 1);
    assert.ok(Date.now() - started < 30_000, "fails at once, no pull is attempted");
    assert.match(
      result.stderr,
      new RegExp(`The base image '${missing.replace(/[.]/g, "\\.")}' \\(Dockerfile line 2\\)`),
    );
    assert.match(result.stderr, /not in the local image store, and runguard never pulls images/);
    assert.match(result.stderr, /podman save .*podman load -i/);
    assert.doesNotMatch(result.stderr, /STEP 1/, "podman's build never started");
  });

  it("says so when podman is not installed", async () => {
    const dir = appDir("no-podman", [`FROM ${base}`]);
    const result = await runguardOffline(["build", dir], { ...process.env, PATH: "/nonexistent" });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /podman is not installed/);
  });
});
