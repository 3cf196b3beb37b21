// The analyzer end to end: hand-written exports of a real project and a Terraform plan through the CLI, the
// SARIF output validated against the SARIF 2.1.0 schema and compared with a golden file, and live state.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createRequire } from "node:module";
import { startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { deploy, registerTestImages } from "../helpers/deploy.js";

const run = promisify(execFile);
// ajv ships CommonJS: its default exports are reached through require.
const requireCjs = createRequire(import.meta.url);
interface Validator {
  (data: unknown): boolean;
  errors?: unknown;
}
interface AjvInstance {
  compile(schema: object): Validator;
}
const Ajv = requireCjs("ajv-draft-04") as new (options: object) => AjvInstance;
const addFormats = requireCjs("ajv-formats") as (ajv: AjvInstance) => void;
const bin = fileURLToPath(new URL("../../../bin/runguard.js", import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/analyzer/${name}`, import.meta.url));
const schemaPath = fileURLToPath(new URL("../../../src/analyzer/sarif-schema-2.1.0.json", import.meta.url));

const offlineArgs = [
  "--project",
  "shop-prod",
  "--project-number",
  "123456789012",
  "--export",
  fixture("export.yaml"),
  "--service-policy",
  `orders-api=${fixture("orders-policy.json")}`,
  "--project-policy",
  fixture("project-policy.json"),
  "--secrets",
  fixture("secrets.json"),
];

async function audit(args: string[]): Promise<{ code: number; stdout: string }> {
  return run(process.execPath, [bin, "audit", ...args]).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );
}

describe("runguard audit", () => {
  it("finds the seed's mistakes in exported files of a real project", async () => {
    const { stdout } = await audit([...offlineArgs, "--format", "json"]);
    const findings = (JSON.parse(stdout) as { findings: Array<{ ruleId: string; resource: string; evidence: string }> })
      .findings;
    const got = findings.map((f) => `${f.ruleId} ${f.resource.split("/").pop()}`).sort();
    assert.deepEqual(got, [
      "RG-IAM-001 shop-prod",
      "RG-IAM-002 shop-prod",
      "RG-NET-001 orders-api",
      "RG-RUN-001 orders-api",
      "RG-RUN-002 orders-api",
      "RG-RUN-002 web",
      "RG-SEC-001 orders-api",
      "RG-SEC-002 orders-api",
    ]);
    assert.ok(!stdout.includes("correct-horse-battery-staple"), "no secret value in the report");
  });

  it("reads a Terraform plan", async () => {
    const { stdout } = await audit(["--project", "shop-prod", "--terraform", fixture("plan.json"), "--format", "json"]);
    const rules = (JSON.parse(stdout) as { findings: Array<{ ruleId: string }> }).findings.map((f) => f.ruleId).sort();
    assert.deepEqual(rules, ["RG-IAM-002", "RG-IAM-003", "RG-IAP-001", "RG-NET-001", "RG-RUN-001", "RG-SEC-001"]);
  });

  it("writes SARIF 2.1.0 that validates against the schema and matches the golden file", async () => {
    const { stdout } = await audit([...offlineArgs, "--format", "sarif"]);
    const sarif = JSON.parse(stdout) as unknown;
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, "utf8")) as object);
    assert.equal(validate(sarif), true, JSON.stringify(validate.errors));
    assert.deepEqual(sarif, JSON.parse(readFileSync(fixture("expected.sarif.json"), "utf8")));
  });

  it("--fail-on sets a non-zero exit code only when findings reach the threshold", async () => {
    assert.equal((await audit([...offlineArgs, "--fail-on", "critical"])).code, 0);
    assert.equal((await audit([...offlineArgs, "--fail-on", "high"])).code, 2);
  });
});

describe("runguard audit on live state", () => {
  let rg: TestRunguard;
  before(async () => {
    rg = await startTestRunguard();
    await registerTestImages(rg);
    await deploy(rg, "leaky", {
      env: { API_TOKEN: "sk_live_0123456789abcdefghijkl" },
      public: true,
      annotations: { "run.googleapis.com/ingress": "internal" },
    });
  });
  after(async () => rg.stop());

  it("flags the default account, the plain secret and the open internal service", async () => {
    const result = await run(process.execPath, [bin, "--data-dir", rg.dataDir, "audit", "--format", "json"]);
    const rules = (JSON.parse(result.stdout) as { findings: Array<{ ruleId: string; resource: string }> }).findings
      .filter((f) => f.resource.endsWith("/leaky"))
      .map((f) => f.ruleId)
      .sort();
    assert.deepEqual(rules, ["RG-NET-001", "RG-RUN-001", "RG-RUN-002", "RG-SEC-001"]);
    assert.ok(!result.stdout.includes("sk_live_0123456789abcdefghijkl"));
  });
});
