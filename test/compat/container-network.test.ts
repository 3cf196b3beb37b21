// Unchanged workloads inside container instances: a service-to-service call with google-auth-library (Node) and
// with google.auth (Python) and no metadata or proxy variables at all, the target reached by its run.app name;
// and the pg driver reaching a real PostgreSQL at its private VPC address from a revision with a connector only.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startPostgres } from "../helpers/postgres.js";
import { startTestRunguard, PROJECT, type TestRunguard } from "../helpers/runguard-instance.js";
import { gcloud } from "../helpers/gcloud.js";
import { invokeUrl } from "../helpers/invoke.js";
import { buildAppImage, podmanAvailable } from "../helpers/test-image.js";

const bin = fileURLToPath(new URL("../../../bin/runguard.js", import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/containers/${name}`, import.meta.url));
const NODE_IMAGE = "localhost/runguard-test/caller-node:1";
const PYTHON_IMAGE = "localhost/runguard-test/caller-python:1";
const CALLER_SA = `caller-sa@${PROJECT}.iam.gserviceaccount.com`;
const OTHER_SA = `other-sa@${PROJECT}.iam.gserviceaccount.com`;

const skip = !podmanAvailable() || process.getuid?.() !== 0 ? "needs podman and root" : false;

describe("unchanged workloads in container instances", { skip }, () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  let calleeUrl = "";
  let postgres: Awaited<ReturnType<typeof startPostgres>> | undefined;
  const run = async (args: string[]) => {
    const regional = args[0] === "run" ? ["--region=us-central1"] : [];
    const result = await gcloud(env, [...args, ...regional, "--quiet"]);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.trim();
  };
  const urlOf = (service: string) => run(["run", "services", "describe", service, "--format=value(status.url)"]);
  const ask = async (service: string, path: string) => {
    const answer = await invokeUrl(rg.endpoints.frontEnd, await urlOf(service), { path });
    assert.equal(answer.status, 200, answer.body);
    return JSON.parse(answer.body) as {
      status?: number;
      data?: unknown;
      project?: string;
      error?: string;
      rows?: unknown;
    };
  };

  before(async () => {
    buildAppImage(NODE_IMAGE, {
      npmPackages: ["google-auth-library", "pg"],
      files: { "/app/app.mjs": fixture("app.mjs") },
      instructions: ["WORKDIR /app", "USER app", 'CMD ["node", "/app/app.mjs"]'],
    });
    buildAppImage(PYTHON_IMAGE, {
      python: true,
      files: { "/app/python_app.py": fixture("python_app.py") },
      instructions: ["WORKDIR /app", 'CMD ["python3", "/app/python_app.py"]'],
    });
    postgres = await startPostgres();
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
    await run(["compute", "networks", "create", "my-vpc", "--subnet-mode=custom"]);
    await run([
      "compute",
      "networks",
      "subnets",
      "create",
      "my-subnet",
      "--network=my-vpc",
      "--region=us-central1",
      "--range=10.8.0.0/28",
    ]);
    await run([
      "compute",
      "networks",
      "vpc-access",
      "connectors",
      "create",
      "my-connector",
      "--region=us-central1",
      "--subnet=my-subnet",
    ]);
    await promisify(execFile)(process.execPath, [
      bin,
      "--data-dir",
      rg.dataDir,
      "vpc",
      "add-address",
      "--network",
      "my-vpc",
      "--address",
      "10.8.0.5:5432",
      "--to",
      `127.0.0.1:${postgres.port}`,
    ]);
    await run(["iam", "service-accounts", "create", "caller-sa"]);
    await run(["iam", "service-accounts", "create", "other-sa"]);
    await run(["run", "deploy", "callee", `--image=${NODE_IMAGE}`, "--no-allow-unauthenticated"]);
    calleeUrl = await urlOf("callee");
    await run([
      "run",
      "services",
      "add-iam-policy-binding",
      "callee",
      `--member=serviceAccount:${CALLER_SA}`,
      "--role=roles/run.invoker",
    ]);
    for (const [service, image, sa] of [
      ["node-caller", NODE_IMAGE, CALLER_SA],
      ["node-other", NODE_IMAGE, OTHER_SA],
      ["python-caller", PYTHON_IMAGE, CALLER_SA],
      ["python-other", PYTHON_IMAGE, OTHER_SA],
    ] as const)
      await run(["run", "deploy", service, `--image=${image}`, `--service-account=${sa}`, "--allow-unauthenticated"]);
    await run([
      "run",
      "deploy",
      "db-client",
      `--image=${NODE_IMAGE}`,
      "--vpc-connector=my-connector",
      "--vpc-egress=private-ranges-only",
      "--allow-unauthenticated",
    ]);
  });
  after(async () => {
    await rg?.stop();
    await postgres?.stop();
  });

  it("google-auth-library finds the metadata server by itself and calls a private service: 200 with the binding", async () => {
    const answer = await ask("node-caller", `/call?url=${encodeURIComponent(calleeUrl)}`);
    assert.equal(answer.status, 200, JSON.stringify(answer));
    const data = typeof answer.data === "string" ? (JSON.parse(answer.data) as unknown) : answer.data;
    assert.deepEqual(data, { hello: "callee" });
  });

  it("the same call from a service account without the binding gets Cloud Run's 403", async () => {
    const answer = await ask("node-other", `/call?url=${encodeURIComponent(calleeUrl)}`);
    assert.equal(answer.status, 403, JSON.stringify(answer));
  });

  it("Python google.auth: fetch_id_token and default() through metadata.google.internal, then the call", async () => {
    const answer = await ask("python-caller", `/?url=${encodeURIComponent(calleeUrl)}`);
    assert.equal(answer.error, undefined, answer.error);
    assert.equal(answer.status, 200);
    assert.equal(answer.project, PROJECT);
    const refused = await ask("python-other", `/?url=${encodeURIComponent(calleeUrl)}`);
    assert.equal(refused.status, 403, JSON.stringify(refused));
  });

  it("the pg driver reaches PostgreSQL at 10.8.0.5:5432 from a revision with a connector, and not without one", async () => {
    const reached = await ask("db-client", "/pg?host=10.8.0.5&port=5432");
    assert.deepEqual(reached, { rows: [{ one: 1 }] });
    const refused = await ask("node-other", "/pg?host=10.8.0.5&port=5432");
    assert.match(String(refused.error), /ECONNREFUSED|ENETUNREACH|EHOSTUNREACH/);
  });
});
