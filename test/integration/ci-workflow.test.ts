// examples/github-actions/runguard.yml, run here as a runner would run it: its run: steps in order, in bash -e
// (GitHub's default shell), on a copy of examples/github-actions/sample. The one step replaced is `npm ci`: this
// checkout is linked as the sample's node_modules/runguard instead, so nothing touches the network. The tests pass
// inside `runguard exec`, the SARIF the audit step writes validates against SARIF 2.1.0's schema and names the
// sample's misconfiguration, and a failing test fails its step.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const requireCjs = createRequire(import.meta.url);
interface Validator {
  (data: unknown): boolean;
  errors?: unknown;
}
const Ajv = requireCjs("ajv-draft-04") as new (options: object) => { compile(schema: object): Validator };
const addFormats = requireCjs("ajv-formats") as (ajv: unknown) => void;

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  if?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  permissions: Record<string, string>;
  jobs: Record<string, { steps: Step[] }>;
}

const workflow = parse(readFileSync(join(root, "examples/github-actions/runguard.yml"), "utf8")) as Workflow;
const steps = Object.values(workflow.jobs)[0]?.steps ?? [];

/** What `npm ci` would have installed: runguard, from this checkout (its own node_modules resolve its dependencies). */
function installRunguard(project: string): void {
  mkdirSync(join(project, "node_modules/.bin"), { recursive: true });
  symlinkSync(root, join(project, "node_modules/runguard"));
  symlinkSync("../runguard/bin/runguard.js", join(project, "node_modules/.bin/runguard"));
}

function runStep(script: string, cwd: string): Promise<{ code: number | null; output: string }> {
  // A runner's environment: without node:test's marker of this test process, the sample's node --test runs as usual.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CI: "true",
    PATH: `${dirname(process.execPath)}:${process.env["PATH"] ?? ""}`,
  };
  delete env["NODE_TEST_CONTEXT"];
  return new Promise((resolve) => {
    const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("the GitHub Actions workflow of examples/github-actions", () => {
  let work: string;
  let project: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), "rg-ci-"));
    project = join(work, "sample");
    cpSync(join(root, "examples/github-actions/sample"), project, { recursive: true });
    installRunguard(project);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("runs the tests in runguard exec, audits, and uploads SARIF with code scanning's permission", () => {
    const runs = steps.flatMap((step) => (step.run ? [step.run.trim()] : []));
    assert.deepEqual(runs, [
      "npm ci",
      "npx runguard --data-dir .runguard-ci exec -- npm test",
      "npx runguard --data-dir .runguard-ci audit --format sarif > runguard.sarif",
    ]);
    const upload = steps.find((step) => step.uses?.startsWith("github/codeql-action/upload-sarif@"));
    assert.equal(upload?.with?.["sarif_file"], "runguard.sarif");
    assert.equal(upload?.if, "always()");
    assert.equal(workflow.permissions["security-events"], "write");
  });

  it("its run: steps pass in order on the sample project, and the SARIF validates", async () => {
    for (const step of steps) {
      if (!step.run || step.run.trim() === "npm ci") continue;
      const { code, output } = await runStep(step.run, project);
      assert.equal(code, 0, `${step.name ?? step.run}: ${output}`);
      if (step.run.includes("exec")) assert.match(output, /[ℹ#] pass 2/);
    }
    const sarif = JSON.parse(readFileSync(join(project, "runguard.sarif"), "utf8")) as {
      runs: { results: { ruleId: string; message: { text: string } }[] }[];
    };
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const schema = JSON.parse(readFileSync(join(root, "src/analyzer/sarif-schema-2.1.0.json"), "utf8")) as object;
    const validate = ajv.compile(schema);
    assert.equal(validate(sarif), true, JSON.stringify(validate.errors));
    const results = sarif.runs[0]?.results ?? [];
    assert.ok(
      results.some((r) => r.ruleId === "RG-RUN-001" && JSON.stringify(r).includes("services/orders-api")),
      JSON.stringify(results.map((r) => r.ruleId)),
    );
  });

  it("a failing test fails the exec step with npm test's exit code", async () => {
    const failing = join(work, "failing");
    cpSync(project, failing, { recursive: true, verbatimSymlinks: true });
    rmSync(join(failing, ".runguard-ci"), { recursive: true, force: true });
    writeFileSync(
      join(failing, "test/services.test.mjs"),
      `import { test } from "node:test";\nimport assert from "node:assert/strict";\n` +
        `test("web is private", async () => assert.equal((await fetch(process.env.RUNGUARD_LOCAL_URL_WEB)).status, 403));\n`,
    );
    const exec = steps.find((step) => step.run?.includes(" exec "));
    const { code, output } = await runStep(exec?.run ?? "", failing);
    assert.equal(code, 1, output);
    assert.match(output, /[ℹ#] fail 1/);
    assert.equal(existsSync(join(failing, ".runguard-ci/runguard.db")), true, "the audit still has the state");
  });
});
