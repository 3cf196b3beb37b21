// The published package, without the network: `npm pack` (its prepack builds dist/) makes a tarball that ships
// the compiled code and the API's types but no tests; installed in a fresh project with `npm install --offline`
// (its dependencies linked from this checkout's node_modules, where npm finds them already satisfied), `npx runguard
// up` starts and stops on SIGINT, `import { start } from "runguard"` works, and TypeScript finds its types.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const run = promisify(execFile);
const FREE_PORTS = ["--port", "0", "--front-end-port", "0", "--lb-port", "0", "--lb-https-port", "0"];

/** Links every package of this checkout's node_modules into `dir`'s, so that npm needs nothing from a registry. */
function linkDependencies(dir: string): void {
  const source = join(root, "node_modules");
  const target = join(dir, "node_modules");
  mkdirSync(target);
  for (const name of readdirSync(source)) {
    if (name.startsWith(".")) continue;
    if (name.startsWith("@")) {
      mkdirSync(join(target, name));
      for (const scoped of readdirSync(join(source, name)))
        symlinkSync(join(source, name, scoped), join(target, name, scoped));
    } else symlinkSync(join(source, name), join(target, name));
  }
}

describe("the npm package", () => {
  let work: string;
  let app: string;
  let tarball: string;
  let files: string[];
  // npm must not read the developer's settings or reach a registry.
  const npmEnv = { ...process.env, npm_config_offline: "true", npm_config_audit: "false", npm_config_fund: "false" };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "rg-pack-"));
    const packed = await run("npm", ["pack", "--json", "--pack-destination", work], {
      cwd: root,
      env: npmEnv,
      timeout: 240_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const [report] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    tarball = join(work, report.filename);
    files = report.files.map((f) => f.path);
    app = join(work, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true }));
    linkDependencies(app);
    // --ignore-scripts: the linked packages are this checkout's, already built; nothing of theirs may run again.
    await run("npm", ["install", "--offline", "--ignore-scripts", "--no-audit", "--no-fund", tarball], {
      cwd: app,
      env: npmEnv,
      timeout: 240_000,
    });
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it("ships the compiled code and the API's types, not the tests or the TypeScript sources", () => {
    for (const file of ["bin/runguard.js", "dist/src/cli/main.js", "dist/src/api/index.js", "dist/src/api/index.d.ts"])
      assert.ok(files.includes(file), file);
    assert.ok(files.includes("dist/src/iam/roles-catalogue.json"));
    assert.ok(files.includes("images/hello/server.mjs"));
    assert.deepEqual(
      files.filter((f) => f.startsWith("dist/test/") || f.startsWith("test/") || /^src\/.*\.ts$/.test(f)),
      [],
    );
  });

  it("npx runguard up starts from the installed package, prints its banner and stops on SIGINT", async () => {
    // A process group of its own, as a terminal gives a command: Ctrl-C reaches npx and what it started.
    const up = spawn("npx", ["--offline", "runguard", "up", ...FREE_PORTS], {
      cwd: app,
      env: npmEnv,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    up.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    up.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<string>((resolve) => up.on("close", (code, signal) => resolve(signal ?? String(code))));
    try {
      const started = Date.now();
      while (!output.includes("point gcloud:")) {
        assert.equal(up.exitCode, null, output);
        assert.ok(Date.now() - started < 60_000, `no banner: ${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.match(output, new RegExp(`runguard is up \\(data in ${join(app, ".runguard")}\\)`));
      assert.match(output, /front end: +http:\/\/127\.0\.0\.1:\d+/);
      process.kill(-(up.pid ?? 0), "SIGINT");
      // npx itself ends with the signal it got, or 0 (npm's versions differ); runguard said it stopped.
      assert.match(await exited, /^(0|SIGINT)$/, output);
      assert.match(output, /stopped\./);
    } finally {
      // A failed assertion must not leave runguard running.
      if (up.exitCode === null && up.signalCode === null) process.kill(-(up.pid ?? 0), "SIGKILL");
    }
  });

  it("import { start } from 'runguard' works in the installed package, and TypeScript finds its types", async () => {
    const script = [
      "import { start } from 'runguard';",
      "const runguard = await start();",
      "const answer = await fetch(runguard.endpoints.api + '/v1/projects/my-gcp-project/serviceAccounts');",
      "console.log(answer.status);",
      "await runguard.stop();",
    ].join("\n");
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: app,
      timeout: 60_000,
    });
    assert.equal(stdout.trim(), "401");
    writeFileSync(
      join(app, "typed.ts"),
      [
        "import { start, type StartedRunguard } from 'runguard';",
        "const runguard: StartedRunguard = await start({ ports: { api: 0 } });",
        "const url: string = (await runguard.deploy({ service: 'a', image: 'x', allowUnauthenticated: true })).url;",
        "// @ts-expect-error: token() needs an audience",
        "await runguard.token({ principal: 'user:a@example.com' });",
        "export { url };",
      ].join("\n"),
    );
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
          typeRoots: [join(root, "node_modules/@types")],
        },
        files: ["typed.ts"],
      }),
    );
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", type: "module", private: true }));
    await run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], {
      cwd: app,
      timeout: 120_000,
    });
  });
});
