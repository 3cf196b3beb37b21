// Secrets reach instances as env vars and files through `gcloud run deploy --set-secrets`, exactly the
// seed's commands; deploy checks the runtime account's access; and a canary secret appears nowhere else:
// not in gcloud's output, describe, logs, audit entries, the store's files, the data directory or `ps`.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { gcloud, type GcloudResult } from "../helpers/gcloud.js";
import { PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { ECHO_IMAGE, registerTestImages } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";

const run = promisify(execFile);
const SA = `my-api-sa@${PROJECT}.iam.gserviceaccount.com`;
const CANARY = "canary-7f3a9c2e-do-not-leak";
const FILE_CANARY = "file-canary-41b8-do-not-leak";

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : [];
  });
}

describe("secret injection", () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  const outputs: GcloudResult[] = [];
  const g = async (args: string[], stdin?: string) => {
    const result = await gcloud(env, args, stdin === undefined ? {} : { stdin });
    outputs.push(result);
    return result;
  };
  let url = "";
  const call = async (path: string) => (await invokeUrl(rg.endpoints.frontEnd, url, { path })).body;

  before(async () => {
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
    await registerTestImages(rg);
    assert.equal((await g(["iam", "service-accounts", "create", "my-api-sa"])).code, 0);
    assert.equal((await g(["secrets", "create", "db-password", "--data-file=-"], CANARY)).code, 0);
    assert.equal((await g(["secrets", "create", "my-credential", "--data-file=-"], FILE_CANARY)).code, 0);
  });
  after(async () => rg.stop());

  it("refuses to deploy when the runtime service account cannot read the secret, with Cloud Run's message", async () => {
    const denied = await g([
      "run",
      "deploy",
      "my-api",
      `--image=${ECHO_IMAGE}`,
      "--region=us-central1",
      `--service-account=${SA}`,
      "--set-secrets=DB_PASSWORD=db-password:latest",
      "--allow-unauthenticated",
    ]);
    assert.equal(denied.code, 1);
    assert.match(
      denied.stderr,
      /Permission denied on secret: projects\/\d+\/secrets\/db-password\/versions\/latest for Revision service account my-api-sa@my-gcp-project\.iam\.gserviceaccount\.com\. The service account used must be granted the 'Secret Manager Secret Accessor' role \(roles\/secretmanager\.secretAccessor\) at the secret, project or higher level\./,
    );
  });

  it("injects an env var secret and a file secret once access is granted (the seed's commands)", async () => {
    for (const secret of ["db-password", "my-credential"]) {
      const bound = await g([
        "secrets",
        "add-iam-policy-binding",
        secret,
        `--member=serviceAccount:${SA}`,
        "--role=roles/secretmanager.secretAccessor",
      ]);
      assert.equal(bound.code, 0, bound.stderr);
    }
    const deployed = await g([
      "run",
      "deploy",
      "my-api",
      `--image=${ECHO_IMAGE}`,
      "--region=us-central1",
      `--service-account=${SA}`,
      "--set-secrets=DB_PASSWORD=db-password:latest",
      "--allow-unauthenticated",
    ]);
    assert.equal(deployed.code, 0, deployed.stderr);
    url = /Service URL: (\S+)/.exec(deployed.stderr)?.[1] ?? "";
    assert.equal(await call("/env?name=DB_PASSWORD"), CANARY);
    const mounted = await g([
      "run",
      "services",
      "update",
      "my-api",
      "--region=us-central1",
      "--update-secrets=/secrets/credentials=my-credential:latest",
    ]);
    assert.equal(mounted.code, 0, mounted.stderr);
    assert.equal(await call("/file?path=/secrets/credentials"), FILE_CANARY);
    assert.equal(await call("/env?name=DB_PASSWORD"), CANARY, "both kinds together");
    if (rg.endpoints.isolation === "netns") {
      assert.equal(
        await call("/env?name=RUNGUARD_MOUNT_ROOT"),
        "",
        "in a mount namespace the file is at its container path",
      );
    }
  });

  it("a `latest` file follows new versions without a redeploy", async () => {
    assert.equal(
      (await g(["secrets", "versions", "add", "my-credential", "--data-file=-"], `${FILE_CANARY}-v2`)).code,
      0,
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await call("/file?path=/secrets/credentials"), `${FILE_CANARY}-v2`);
  });

  it("--remove-secrets and --clear-secrets take references away", async () => {
    const removed = await g([
      "run",
      "services",
      "update",
      "my-api",
      "--region=us-central1",
      "--remove-secrets=/secrets/credentials",
    ]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(await call("/file?path=/secrets/credentials"), "<missing>");
    assert.equal(await call("/env?name=DB_PASSWORD"), CANARY);
    const cleared = await g(["run", "services", "update", "my-api", "--region=us-central1", "--clear-secrets"]);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal(await call("/env?name=DB_PASSWORD"), "<unset>");
    const restored = await g([
      "run",
      "services",
      "update",
      "my-api",
      "--region=us-central1",
      "--set-secrets=DB_PASSWORD=db-password:latest",
    ]);
    assert.equal(restored.code, 0, restored.stderr);
  });

  it("describe shows references only", async () => {
    const described = await g(["run", "services", "describe", "my-api", "--region=us-central1"]);
    assert.match(described.stdout, /DB_PASSWORD\s+db-password:latest/);
    const exported = await g(["run", "services", "describe", "my-api", "--region=us-central1", "--format=export"]);
    assert.match(exported.stdout, /secretKeyRef/);
  });

  it("an instance whose secret can no longer be read does not start (500)", async () => {
    const removed = await g([
      "secrets",
      "remove-iam-policy-binding",
      "db-password",
      `--member=serviceAccount:${SA}`,
      "--role=roles/secretmanager.secretAccessor",
    ]);
    assert.equal(removed.code, 0, removed.stderr);
    await g([
      "run",
      "services",
      "update",
      "my-api",
      "--region=us-central1",
      "--update-env-vars=FORCE=new-revision",
    ]).then((r) => assert.notEqual(r.code, 0, "deploy-time check refuses the new revision"));
    await rg.instances.close();
    const result = await invokeUrl(rg.endpoints.frontEnd, url, { path: "/" });
    assert.equal(result.status, 500);
  });

  it("the canary appears nowhere but where it was delivered", async () => {
    await rg.dataPlane.flushLogs();
    const needles = [
      CANARY,
      FILE_CANARY,
      Buffer.from(CANARY).toString("base64"),
      Buffer.from(FILE_CANARY).toString("base64"),
    ];
    const leaks = (text: string) => needles.filter((n) => text.includes(n));
    assert.deepEqual(leaks(outputs.map((o) => o.stdout + o.stderr).join("\n")), [], "gcloud output");
    assert.deepEqual(
      leaks(JSON.stringify(await rg.platform.store.readLogs({ limit: 100_000 }))),
      [],
      "logs and audit entries",
    );
    const { stdout: ps } = await run("ps", ["-eo", "args"]);
    assert.deepEqual(leaks(ps), [], "process listing");
    for (const file of filesUnder(rg.dataDir)) {
      const content = readFileSync(file);
      const found = needles.filter((n) => content.includes(n));
      assert.deepEqual(found, [], `${file} (mode ${(statSync(file).mode & 0o777).toString(8)})`);
    }
  });
});
