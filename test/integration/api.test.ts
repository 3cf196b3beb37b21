// The npm API as a test uses it (`import { start } from "runguard"`): free ports and a throwaway data directory,
// the environment for the real gcloud, ID and access tokens, deploy and invoker bindings through the Run Admin
// API, typed errors, and a stop (or `await using`) that leaves nothing behind. The two examples run with their
// own runners (node --test, Vitest's CLI).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ApiError, start, type StartedRunguard } from "runguard";
import { gcloud } from "../helpers/gcloud.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const HELLO = "us-docker.pkg.dev/cloudrun/container/hello";
const run = promisify(execFile);

async function call(url: string, token?: string): Promise<number> {
  const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  await response.arrayBuffer();
  return response.status;
}

describe("start() from the npm API", () => {
  let runguard: StartedRunguard;

  before(async () => {
    runguard = await start();
  });
  after(() => runguard.stop());

  it("starts on free ports in a throwaway data directory, with gcloud's environment", async () => {
    assert.ok(runguard.dataDir.startsWith(tmpdir()));
    for (const url of [runguard.endpoints.api, runguard.endpoints.frontEnd])
      assert.match(url, /^http:\/\/127\.0\.0\.1:(?!8089|8090)\d+$/);
    assert.ok(runguard.env["CLOUDSDK_CONFIG"]?.startsWith(runguard.dataDir));
    assert.equal(runguard.env["RUNGUARD_API_URL"], runguard.endpoints.api);
    const listed = await gcloud({ ...runguard.env }, ["iam", "service-accounts", "list", "--format=json"]);
    assert.equal(listed.code, 0, listed.stderr);
  });

  it("deploys a private service: 403 without a token, 200 with the owner's ID token; public after allowUnauthenticated", async () => {
    const service = await runguard.deploy({ service: "hello-api", image: HELLO });
    assert.match(service.url, /^https:\/\/hello-api-\d+\.us-central1\.run\.app$/);
    assert.equal(await call(service.localUrl), 403);
    const token = await runguard.token({ principal: "user:developer@example.com", audience: service.url });
    assert.equal(await call(service.localUrl, token), 200);
    const stranger = await runguard.token({ principal: "alice@example.com", audience: service.url });
    assert.equal(await call(service.localUrl, stranger), 403);
    await runguard.deploy({ service: "hello-api", image: HELLO, allowUnauthenticated: true });
    assert.equal(await call(service.localUrl), 200);
    await runguard.deploy({ service: "hello-api", image: HELLO, allowUnauthenticated: false });
    assert.equal(await call(service.localUrl), 403);
    const described = await gcloud({ ...runguard.env }, [
      "run",
      "services",
      "describe",
      "hello-api",
      "--format=value(status.url)",
    ]);
    assert.ok(service.urls.includes(described.stdout.trim()), "gcloud sees what the API deployed");
  });

  it("adds and removes invoker bindings; a service account's ID token follows them", async () => {
    const service = await runguard.deploy({ service: "billing", image: HELLO, serviceAccount: "billing" });
    assert.equal(service.serviceAccount, "billing@my-gcp-project.iam.gserviceaccount.com");
    const caller = "robot-caller@my-gcp-project.iam.gserviceaccount.com";
    await runguard.deploy({ service: "robot-home", image: HELLO, serviceAccount: caller });
    const token = await runguard.token({ principal: `serviceAccount:${caller}`, audience: service.url });
    assert.equal(await call(service.localUrl, token), 403);
    await runguard.addBinding({ service: "billing", role: "roles/run.invoker", member: `serviceAccount:${caller}` });
    assert.equal(await call(service.localUrl, token), 200);
    await runguard.removeBinding({ service: "billing", role: "roles/run.invoker", member: `serviceAccount:${caller}` });
    assert.equal(await call(service.localUrl, token), 403);
    await runguard.setIamPolicy("billing", { bindings: [{ role: "roles/run.invoker", members: ["allUsers"] }] });
    assert.equal(await call(service.localUrl), 200);
    const names = (await runguard.services()).map((s) => s.name).sort();
    assert.deepEqual(names, ["billing", "hello-api", "robot-home"]);
  });

  it("hands out access tokens that the Google APIs accept for that principal", async () => {
    const owner = await runguard.accessToken({ principal: "user:developer@example.com" });
    const path = `/apis/serving.knative.dev/v1/namespaces/my-gcp-project/services/billing`;
    assert.equal(await call(`${runguard.endpoints.api}${path}`, owner), 200);
    const alice = await runguard.accessToken({ principal: "user:alice@example.com" });
    assert.equal(await call(`${runguard.endpoints.api}${path}`, alice), 403);
  });

  it("answers bad input with typed errors", async () => {
    await assert.rejects(runguard.deploy({ service: "Not_A_Name", image: HELLO }), (error: unknown) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.status, "INVALID_ARGUMENT");
      return true;
    });
    await assert.rejects(
      runguard.deploy({ service: "both", image: HELLO, command: ["/bin/true"] }),
      (error: unknown) => error instanceof ApiError && error.status === "INVALID_ARGUMENT",
    );
    await assert.rejects(
      runguard.deploy({ service: "missing-image", image: "localhost/never/built:1" }),
      (error: unknown) => error instanceof ApiError && error.status === "INVALID_ARGUMENT",
    );
    await assert.rejects(
      runguard.token({ principal: "allUsers", audience: "https://x.run.app" }),
      (error: unknown) => error instanceof ApiError,
    );
    await assert.rejects(
      runguard.token({ principal: "ghost@my-gcp-project.iam.gserviceaccount.com", audience: "https://x.run.app" }),
      /ghost@my-gcp-project\.iam\.gserviceaccount\.com does not exist/,
    );
  });
});

describe("declared state through the API", () => {
  let project: string;
  before(() => {
    project = mkdtempSync(join(tmpdir(), "rg-api-state-"));
    writeFileSync(
      join(project, "runguard.yaml"),
      [
        "serviceAccounts: [{ name: web-sa }]",
        "services:",
        "  - service:",
        "      apiVersion: serving.knative.dev/v1",
        "      kind: Service",
        "      metadata: { name: web }",
        "      spec:",
        "        template:",
        "          spec:",
        "            serviceAccountName: web-sa@my-gcp-project.iam.gserviceaccount.com",
        `            containers: [{ image: ${HELLO} }]`,
        "    iamPolicy: { bindings: [{ role: roles/run.invoker, members: [allUsers] }] }",
        "",
      ].join("\n"),
    );
  });
  after(() => rmSync(project, { recursive: true, force: true }));

  it("start({ config }) applies a state file; apply() again changes nothing; reset() empties the project", async () => {
    await using runguard = await start({ config: join(project, "runguard.yaml") });
    const [web] = await runguard.services();
    assert.equal(web?.name, "web");
    assert.equal(await call(web?.localUrl ?? ""), 200);
    const again = await runguard.apply(join(project, "runguard.yaml"));
    assert.deepEqual(again.changes, []);
    await runguard.reset();
    assert.deepEqual(await runguard.services(), []);
    const reapplied = await runguard.apply(project);
    assert.ok(reapplied.changes.length > 0);
    assert.deepEqual(
      (await runguard.services()).map((s) => s.name),
      ["web"],
    );
  });

  it("apply() takes an object in runguard.yaml's shape, checked by the same schema", async () => {
    await using runguard = await start();
    const applied = await runguard.apply({
      serviceAccounts: [{ name: "api-sa" }],
      services: [
        {
          apiVersion: "serving.knative.dev/v1",
          kind: "Service",
          metadata: { name: "api" },
          spec: { template: { spec: { containers: [{ image: HELLO }] } } },
        },
      ],
    });
    assert.ok(applied.changes.length > 0);
    const [api] = await runguard.services();
    assert.equal(api?.name, "api");
    // Private by default: no invoker binding was declared.
    assert.equal(await call(api?.localUrl ?? ""), 403);
    await assert.rejects(
      runguard.apply({ serviceAccounts: 7 }),
      (error: unknown) =>
        error instanceof ApiError && error.status === "INVALID_ARGUMENT" && error.message.includes("apply(config)"),
    );
  });

  it("a malformed state file stops start() with INVALID_ARGUMENT naming it, before anything starts", async () => {
    writeFileSync(join(project, "bad.yaml"), "serviceAccounts: 7\n");
    await assert.rejects(
      start({ config: join(project, "bad.yaml") }),
      (error: unknown) =>
        error instanceof ApiError && error.status === "INVALID_ARGUMENT" && error.message.includes("bad.yaml"),
    );
  });
});

describe("stopping the API's runguard", () => {
  it("await using stops runguard, closes its ports and removes the throwaway data directory", async () => {
    let dataDir = "";
    let api = "";
    {
      await using runguard = await start();
      ({
        dataDir,
        endpoints: { api },
      } = runguard);
      assert.equal(await call(`${api}/v1/projects/my-gcp-project/serviceAccounts`), 401);
    }
    assert.equal(existsSync(dataDir), false);
    await assert.rejects(fetch(api), /fetch failed/);
  });

  it("keeps a data directory it was given, and starts again on it with what was deployed", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "rg-api-kept-"));
    try {
      const first = await start({ dataDir });
      await first.deploy({ service: "kept", image: HELLO, allowUnauthenticated: true });
      await first.stop();
      await first.stop();
      assert.ok(existsSync(join(dataDir, "runguard.db")));
      const second = await start({ dataDir });
      try {
        const [kept] = await second.services();
        assert.equal(kept?.name, "kept");
        assert.equal(await call(kept?.localUrl ?? ""), 200);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("refuses a taken port with the start error, leaving no data directory behind", async () => {
    const holder = await start();
    try {
      const port = Number(new URL(holder.endpoints.api).port);
      const before = new Set(await tmpEntries());
      await assert.rejects(start({ ports: { api: port } }), /port \d+ \(control plane\) is in use/);
      const left = (await tmpEntries()).filter((name) => !before.has(name) && name.startsWith("runguard-data-"));
      assert.deepEqual(left, []);
    } finally {
      await holder.stop();
    }
  });
});

async function tmpEntries(): Promise<string[]> {
  const { readdir } = await import("node:fs/promises");
  return readdir(tmpdir());
}

/** The environment of a test runner started from this one: without node:test's marker, it reports as usual. */
function runnerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "1", NO_COLOR: "1" };
  delete env["NODE_TEST_CONTEXT"];
  return env;
}

describe("the examples", () => {
  it("examples/node-test passes under node --test", async () => {
    const { stdout } = await run(process.execPath, ["--test", "--test-reporter=spec", "examples/node-test/"], {
      cwd: root,
      timeout: 120_000,
      env: runnerEnv(),
    });
    assert.match(stdout, /✔ A gets 403 from B until A's service account is B's invoker, then 200/);
    assert.match(stdout, /ℹ pass 1/);
  });

  it("examples/vitest passes under Vitest's CLI", async () => {
    const vitest = join(root, "node_modules/vitest/vitest.mjs");
    const { stdout } = await run(
      process.execPath,
      [vitest, "run", "--config", "examples/vitest/vitest.config.mjs", "--reporter=verbose"],
      { cwd: root, timeout: 120_000, env: runnerEnv() },
    );
    assert.match(stdout, /✓ .*A gets 403 from B until A's service account is B's invoker, then 200/);
    assert.match(stdout, /Tests\s+1 passed/);
  });
});
