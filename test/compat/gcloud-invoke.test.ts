// Calling a private service the way developers do with gcloud: an ID token from `gcloud auth
// print-identity-token` (service-account key, or impersonation) sent with curl.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { gcloud } from "../helpers/gcloud.js";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";

const run = promisify(execFile);
const SA = `caller-sa@${PROJECT}.iam.gserviceaccount.com`;

describe("gcloud-minted ID tokens against a private service", () => {
  let rg: TestRunguard;
  let owner: Record<string, string>;
  let url: string;
  const curl = async (token: string) => {
    const { stdout } = await run("curl", [
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-H",
      `Host: ${new URL(url).host}`,
      "-H",
      `Authorization: Bearer ${token}`,
      `${rg.endpoints.frontEnd}/`,
    ]);
    return Number(stdout);
  };

  before(async () => {
    rg = await startTestRunguard();
    owner = await rg.gcloudEnvFor();
    for (const args of [
      ["iam", "service-accounts", "create", "caller-sa"],
      [
        "run",
        "deploy",
        "private-api",
        "--image=us-docker.pkg.dev/cloudrun/container/hello",
        "--region=us-central1",
        "--no-allow-unauthenticated",
      ],
    ]) {
      const result = await gcloud(owner, args);
      assert.equal(result.code, 0, result.stderr);
    }
    url =
      /Service URL: (\S+)/.exec(
        (await gcloud(owner, ["run", "services", "describe", "private-api", "--region=us-central1"])).stdout.replace(
          /URL:\s+/,
          "Service URL: ",
        ),
      )?.[1] ?? "";
    assert.match(url, /^https:\/\/private-api-\d+\.us-central1\.run\.app$/);
  });
  after(async () => rg.stop());

  it("a service-account key: print-identity-token, then 403 until the account has run.invoker", async () => {
    const key = join(rg.dataDir, "caller-key.json");
    const created = await gcloud(owner, ["iam", "service-accounts", "keys", "create", key, `--iam-account=${SA}`]);
    assert.equal(created.code, 0, created.stderr);
    const saEnv = { ...owner, CLOUDSDK_CONFIG: join(rg.dataDir, "gcloud-caller") };
    delete (saEnv as Record<string, string | undefined>)["CLOUDSDK_AUTH_ACCESS_TOKEN_FILE"];
    assert.equal((await gcloud(saEnv, ["auth", "activate-service-account", `--key-file=${key}`])).code, 0);
    const printed = await gcloud(saEnv, ["auth", "print-identity-token", `--audiences=${url}`]);
    assert.equal(printed.code, 0, printed.stderr);
    const token = printed.stdout.trim();
    assert.equal(await curl(token), 403);
    const grant = await gcloud(owner, [
      "run",
      "services",
      "add-iam-policy-binding",
      "private-api",
      `--member=serviceAccount:${SA}`,
      "--role=roles/run.invoker",
      "--region=us-central1",
    ]);
    assert.equal(grant.code, 0, grant.stderr);
    assert.equal(await curl(token), 200);
  });

  it("impersonation: the owner needs roles/iam.serviceAccountTokenCreator on the account", async () => {
    const args = ["auth", "print-identity-token", `--audiences=${url}`, `--impersonate-service-account=${SA}`];
    assert.notEqual((await gcloud(owner, args)).code, 0);
    const grant = await gcloud(owner, [
      "iam",
      "service-accounts",
      "add-iam-policy-binding",
      SA,
      `--member=user:${OWNER}`,
      "--role=roles/iam.serviceAccountTokenCreator",
    ]);
    assert.equal(grant.code, 0, grant.stderr);
    const printed = await gcloud(owner, args);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(await curl(printed.stdout.trim()), 200);
  });
});
