// Declarative state through the real CLI and the real gcloud: `up --config` applies a runguard.yaml (two
// services, one private, a service account, a binding, a secret from a value file), `apply` twice changes
// nothing, `export` → `reset` → `apply` → `export` round-trips, `reset` empties, `import` recreates a real
// project's exports (test/fixtures/import/) where web's call to orders-api gets 403 until a binding exists, and
// malformed files exit 1 with a message and no stack. Secret values never appear in any output.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gcloud } from "../helpers/gcloud.js";
import { invokeUrl } from "../helpers/invoke.js";
import { bin, spawnUp, whenUp, type UpProcess } from "../helpers/up-process.js";

const fixtures = fileURLToPath(new URL("../../../test/fixtures/import/", import.meta.url));
const PROJECT = "my-gcp-project";
const SECRET_VALUE = "sk_test_declarative_5f9c2e7a1b";
const IMPORTED_SECRET_VALUE = "sk_live_imported_8d3b6a0c44";
const sa = (id: string) => `${id}@${PROJECT}.iam.gserviceaccount.com`;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const STATE = `
project: ${PROJECT}
serviceAccounts:
  - name: orders-sa
    displayName: orders runtime
  - name: web-sa
iam:
  bindings:
    - role: roles/logging.logWriter
      members: [serviceAccount:${sa("orders-sa")}]
secrets:
  - name: stripe-key
    valueFile: stripe-key.txt
    iamPolicy:
      bindings:
        - role: roles/secretmanager.secretAccessor
          members: [serviceAccount:${sa("orders-sa")}]
services:
  - service:
      apiVersion: serving.knative.dev/v1
      kind: Service
      metadata:
        name: orders
      spec:
        template:
          spec:
            serviceAccountName: ${sa("orders-sa")}
            containers:
              - image: us-docker.pkg.dev/cloudrun/container/hello
                env:
                  - name: STRIPE_KEY
                    valueFrom:
                      secretKeyRef: { name: stripe-key, key: latest }
    iamPolicy:
      bindings:
        - role: roles/run.invoker
          members: [serviceAccount:${sa("web-sa")}]
  - file: web.yaml
    iamPolicyFile: web-policy.json
`;

const WEB = `apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: web
spec:
  template:
    spec:
      serviceAccountName: ${sa("web-sa")}
      containers:
      - image: us-docker.pkg.dev/cloudrun/container/hello
`;

describe("declarative state: runguard.yaml, apply, export, reset, import", () => {
  let dir: string;
  let dataDir: string;
  let up: UpProcess;
  let env: Record<string, string>;

  const cli = (...args: string[]): Promise<CliResult> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [bin, "--data-dir", dataDir, ...args],
        { cwd: dir, timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
      );
    });
  const ok = async (...args: string[]) => {
    const result = await cli(...args);
    assert.equal(result.code, 0, `runguard ${args.join(" ")}: ${result.stdout}${result.stderr}`);
    return result.stdout;
  };
  const run = async (...args: string[]) => {
    const result = await gcloud(env, [...args, "--region=us-central1"]);
    assert.equal(result.code, 0, `gcloud ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  const frontEnd = () =>
    (JSON.parse(readFileSync(join(dataDir, "endpoints.json"), "utf8")) as { frontEnd: string }).frontEnd;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "rg-declarative-"));
    dataDir = join(dir, "data");
    writeFileSync(join(dir, "runguard.yaml"), STATE);
    writeFileSync(join(dir, "web.yaml"), WEB);
    writeFileSync(
      join(dir, "web-policy.json"),
      JSON.stringify({ bindings: [{ role: "roles/run.invoker", members: ["allUsers"] }] }),
    );
    writeFileSync(join(dir, "stripe-key.txt"), SECRET_VALUE, { mode: 0o600 });
    up = spawnUp(dataDir, ["--config", join(dir, "runguard.yaml")]);
    await whenUp(up);
    env = JSON.parse(await ok("env", "--format", "json")) as Record<string, string>;
  });
  after(async () => {
    await up.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("`up --config` applies the file: gcloud sees the services, their account, policies and the secret", async () => {
    assert.match(up.stdout(), /state: +applied .*runguard\.yaml: \d+ created, \d+ updated, 0 unchanged/);
    const orders = JSON.parse(await run("run", "services", "describe", "orders", "--format=json")) as {
      spec: { template: { spec: { serviceAccountName: string; containers: Array<{ env: unknown[] }> } } };
    };
    assert.equal(orders.spec.template.spec.serviceAccountName, sa("orders-sa"));
    assert.deepEqual(orders.spec.template.spec.containers[0]?.env, [
      { name: "STRIPE_KEY", valueFrom: { secretKeyRef: { name: "stripe-key", key: "latest" } } },
    ]);
    const privatePolicy = JSON.parse(await run("run", "services", "get-iam-policy", "orders", "--format=json")) as {
      bindings: unknown[];
    };
    assert.deepEqual(privatePolicy.bindings, [
      { role: "roles/run.invoker", members: [`serviceAccount:${sa("web-sa")}`] },
    ]);
    const publicPolicy = JSON.parse(await run("run", "services", "get-iam-policy", "web", "--format=json")) as {
      bindings: unknown[];
    };
    assert.deepEqual(publicPolicy.bindings, [{ role: "roles/run.invoker", members: ["allUsers"] }]);
    const accounts = await gcloud(env, ["iam", "service-accounts", "list", "--format=value(email)"]);
    assert.match(accounts.stdout, /orders-sa@my-gcp-project/);
    const value = await gcloud(env, ["secrets", "versions", "access", "latest", "--secret=stripe-key"]);
    assert.equal(value.stdout, SECRET_VALUE, value.stderr);
    // The private service refuses an anonymous call; the public one answers it.
    const urls = await run("run", "services", "list", "--format=value(metadata.name,status.url)");
    const url = (name: string) =>
      urls
        .split("\n")
        .find((l) => l.startsWith(`${name}\t`))
        ?.split("\t")[1] ?? "";
    assert.equal((await invokeUrl(frontEnd(), url("orders"))).status, 403);
    assert.equal((await invokeUrl(frontEnd(), url("web"))).status, 200);
  });

  it("applying the same file again changes nothing", async () => {
    const stdout = await ok("apply", "-f", "runguard.yaml");
    assert.match(stdout, /applied runguard\.yaml: no changes \(\d+ already as declared\)/);
    assert.doesNotMatch(stdout, /created|updated/);
    const revisions = await run("run", "revisions", "list", "--service=orders", "--format=value(metadata.name)");
    assert.equal(revisions.trim().split("\n").length, 1);
  });

  it("export → reset → apply → export gives the same file, and no secret value", async () => {
    const first = await ok("export");
    assert.ok(!first.includes(SECRET_VALUE), "the secret's value is not exported");
    assert.match(first, /- name: stripe-key/);
    writeFileSync(join(dir, "exported.yaml"), first);
    const refused = await cli("reset");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /--yes/);
    const reset = await ok("reset", "--yes");
    assert.match(reset, /deleted 2 services/);
    assert.equal(await run("run", "services", "list", "--format=value(metadata.name)"), "");
    const secrets = await gcloud(env, ["secrets", "list", "--format=value(name)"]);
    assert.equal(secrets.stdout, "");
    const applied = await ok("apply", "-f", "exported.yaml");
    assert.match(applied, /created service orders/);
    assert.match(applied, /created secretVersion stripe-key\/versions\/1 \(a generated placeholder\)/);
    assert.equal(await ok("export", "-o", "again.yaml"), "wrote again.yaml\n");
    assert.equal(readFileSync(join(dir, "again.yaml"), "utf8"), first);
  });

  it("import recreates a real project's exports: web's call to orders-api gets 403 until a binding exists", async () => {
    await ok("reset", "--yes");
    writeFileSync(join(dir, "secret-values.yaml"), `stripe-key: ${IMPORTED_SECRET_VALUE}\n`);
    const imported = await ok("import", fixtures, "--secret-values", "secret-values.yaml");
    assert.match(imported, /project id shop-prod, number 123456789012 is mapped to the local project my-gcp-project/);
    assert.match(imported, /created service orders-api/);
    assert.match(imported, /created connector us-central1\/shop-conn/);
    // A project policy change says who gains what, so a project-wide grant is visible.
    assert.match(
      imported,
      /updated policy projects\/my-gcp-project \(adds .*roles\/owner: user:admin@shop\.example\.com/,
    );
    assert.ok(!imported.includes(IMPORTED_SECRET_VALUE));
    const orders = JSON.parse(await run("run", "services", "describe", "orders-api", "--format=json")) as {
      metadata: { annotations: Record<string, string> };
      spec: { template: { metadata: { annotations: Record<string, string> }; spec: { serviceAccountName: string } } };
    };
    assert.equal(orders.spec.template.spec.serviceAccountName, sa("orders-sa"));
    assert.equal(
      orders.spec.template.metadata.annotations["run.googleapis.com/vpc-access-connector"],
      `projects/${PROJECT}/locations/us-central1/connectors/shop-conn`,
    );
    const value = await gcloud(env, ["secrets", "versions", "access", "latest", "--secret=stripe-key"]);
    assert.equal(value.stdout, IMPORTED_SECRET_VALUE);
    assert.ok(!(await ok("export")).includes(IMPORTED_SECRET_VALUE), "export never carries a value");

    // web calls orders-api with web-sa's ID token (the owner may mint it once it holds Token Creator on web-sa).
    const web = sa("web-sa");
    await gcloud(env, [
      "iam",
      "service-accounts",
      "add-iam-policy-binding",
      web,
      "--member=user:developer@example.com",
      "--role=roles/iam.serviceAccountTokenCreator",
    ]);
    const url = (await run("run", "services", "describe", "orders-api", "--format=value(status.url)")).trim();
    const token = (await ok("token", "--impersonate", web, "--audience", url)).trim();
    const call = () => invokeUrl(frontEnd(), url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await call()).status, 403);
    const explained = await cli("iam", "explain", `serviceAccount:${web}`, "run.routes.invoke", "orders-api");
    assert.equal(explained.code, 3, explained.stdout);
    await run(
      "run",
      "services",
      "add-iam-policy-binding",
      "orders-api",
      `--member=serviceAccount:${web}`,
      "--role=roles/run.invoker",
    );
    const allowed = await call();
    assert.equal(allowed.status, 200, allowed.body);
    assert.match(allowed.body, /Service: orders-api/);
    assert.equal((await cli("iam", "explain", `serviceAccount:${web}`, "run.routes.invoke", "orders-api")).code, 0);
  });

  it("malformed files exit 1 with the file and field named, and no stack trace", async () => {
    const cases: Array<[string, string, RegExp]> = [
      ["syntax.yaml", "services: [\n  - oops\n", /syntax\.yaml: not valid YAML: .*line 2/],
      ["field.yaml", "serviceAccounts:\n  - displayName: x\n", /field\.yaml: serviceAccounts\[0\]\.name: /],
      ["unknown.yaml", "servces: []\n", /unknown\.yaml: \(top level\): Unrecognized key: "servces"/],
      [
        "service.yaml",
        "services:\n  - kind: Service\n    metadata: {}\n",
        /service\.yaml: services\[0\]: a service is/,
      ],
      [
        "missing.yaml",
        "secrets:\n  - name: k\n    valueFile: nope.txt\n",
        /missing\.yaml: secrets\[0\]\.valueFile: .*nope\.txt does not exist/,
      ],
    ];
    for (const [file, text, message] of cases) {
      writeFileSync(join(dir, file), text);
      const result = await cli("apply", "-f", file);
      assert.equal(result.code, 1, file);
      assert.match(result.stderr, /^ERROR: /);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    }
    const bad = await cli("apply", "-f", "nothing-here.yaml");
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /nothing-here\.yaml: no such file or directory/);
  });

  it("hostile files are refused before anything is applied, and a project-wide allUsers is printed", async () => {
    const refused = async (args: string[], message: RegExp) => {
      const result = await cli(...args);
      assert.equal(result.code, 1, `${args.join(" ")}: ${result.stdout}`);
      assert.match(result.stderr, /^ERROR: /);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
      return result;
    };
    // A valueFile that is a symlink out of the directory (here to a stand-in for ~/.ssh/id_ed25519).
    const key = "-----BEGIN OPENSSH PRIVATE KEY----- stolen";
    writeFileSync(join(dir, "id_ed25519"), key);
    const hostile = join(dir, "hostile");
    mkdirSync(hostile);
    symlinkSync(join(dir, "id_ed25519"), join(hostile, "notes.txt"));
    writeFileSync(
      join(hostile, "runguard.yaml"),
      "secrets:\n  - name: copied\n    valueFile: notes.txt\n    iamPolicy:\n      bindings:\n        - role: roles/secretmanager.secretAccessor\n          members: [allUsers]\n",
    );
    const result = await refused(
      ["import", hostile],
      /secrets\[0\]\.valueFile: notes\.txt resolves to .*id_ed25519, outside/,
    );
    assert.ok(!`${result.stdout}${result.stderr}`.includes(key));
    assert.doesNotMatch((await gcloud(env, ["secrets", "list", "--format=value(name)"])).stdout, /copied/);

    // An unquoted number as an env value is refused, and gcloud can still list services.
    writeFileSync(
      join(dir, "number.yaml"),
      `services:\n  - service:\n      ${WEB.replace("name: web", "name: numbers").split("\n").join("\n      ")}        env:\n              - name: PORT\n                value: 8081\n`,
    );
    await refused(
      ["apply", "-f", "number.yaml"],
      /number\.yaml: services\[0\]\.service\.spec\.template\.spec\.containers\[0\]\.env\[0\]\.value: a string is expected/,
    );
    const listed = await gcloud(env, [
      "run",
      "services",
      "list",
      "--region=us-central1",
      "--format=value(metadata.name)",
    ]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.doesNotMatch(listed.stdout, /numbers/);

    // A service named `project` beside project-policy.json: whose policy is it? Refused, the project unchanged.
    const ambiguous = join(dir, "ambiguous");
    mkdirSync(ambiguous);
    writeFileSync(join(ambiguous, "project.yaml"), WEB.replace("name: web", "name: project"));
    writeFileSync(
      join(ambiguous, "project-policy.json"),
      JSON.stringify({ bindings: [{ role: "roles/run.invoker", members: ["allUsers"] }] }),
    );
    await refused(
      ["import", ambiguous],
      /project-policy\.json: ambiguous: it could be the project's policy or the policy of service project/,
    );
    const policyOf = async () => (await gcloud(env, ["projects", "get-iam-policy", PROJECT, "--format=json"])).stdout;
    assert.doesNotMatch(await policyOf(), /allUsers/);

    // Granting allUsers on the project on purpose works, and apply says so.
    writeFileSync(
      join(dir, "public.yaml"),
      "iam:\n  bindings:\n    - role: roles/run.invoker\n      members: [allUsers]\n",
    );
    assert.match(
      await ok("apply", "-f", "public.yaml"),
      /updated policy projects\/my-gcp-project \(adds roles\/run\.invoker: allUsers\)/,
    );
    assert.match(await policyOf(), /allUsers/);
  });
});
