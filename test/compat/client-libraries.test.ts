// Google's client libraries with their defaults, no runguard-specific option in the code under test
// (test/fixtures/clients/libraries.mjs): inside a container instance, where *.googleapis.com resolves to runguard
// and its CA is in the system bundle, and outside after `runguard env`, with ADC from a user and from a
// service-account key file. Secret Manager over gRPC and REST, Run v2 over gRPC, Logging's entries.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startTestRunguard, PROJECT, type TestRunguard } from "../helpers/runguard-instance.js";
import { gcloud } from "../helpers/gcloud.js";
import { invokeUrl } from "../helpers/invoke.js";
import { buildAppImage, podmanAvailable } from "../helpers/test-image.js";

const script = fileURLToPath(new URL("../../../test/fixtures/clients/libraries.mjs", import.meta.url));
const IMAGE = "localhost/runguard-test/client-libraries:1";
const READER_SA = `reader-sa@${PROJECT}.iam.gserviceaccount.com`;
const OTHER_SA = `other-sa@${PROJECT}.iam.gserviceaccount.com`;
const SECRET = `projects/${PROJECT}/secrets/db-pass/versions/latest`;
const PERMISSION_DENIED = 7;

interface Answer {
  ok: boolean;
  value?: unknown;
  code?: number;
  message?: string;
}

const skip = !podmanAvailable() || process.getuid?.() !== 0 ? "needs podman and root" : false;

describe("Google's client libraries with their defaults", { skip }, () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  let keyDir = "";
  const run = async (args: string[]) => {
    const regional = args[0] === "run" ? ["--region=us-central1"] : [];
    const result = await gcloud(env, [...args, ...regional, "--quiet"]);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.trim();
  };
  const inside = async (service: string, command: string, arg: string): Promise<Answer> => {
    const url = await run(["run", "services", "describe", service, "--format=value(status.url)"]);
    const answer = await invokeUrl(rg.endpoints.frontEnd, url, { path: `/${command}?arg=${encodeURIComponent(arg)}` });
    assert.equal(answer.status, 200, answer.body);
    return JSON.parse(answer.body) as Answer;
  };
  /** The script as a team's code runs it in a shell after `eval "$(runguard env)"`, nothing else set. */
  const outside = async (command: string, arg: string, extra: Record<string, string> = {}): Promise<Answer> => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !/proxy|^GOOGLE_|^CLOUDSDK_|^GCE_/i.test(key)),
    ) as Record<string, string>;
    const { stdout } = await promisify(execFile)(process.execPath, [script, command, arg], {
      env: { ...clean, ...env, ...extra },
      timeout: 60_000,
    });
    return JSON.parse(stdout) as Answer;
  };

  before(async () => {
    buildAppImage(IMAGE, {
      npmPackages: ["@google-cloud/secret-manager", "@google-cloud/run", "@google-cloud/logging"],
      files: { "/app/libraries.mjs": script },
      instructions: ["WORKDIR /app", 'CMD ["node", "/app/libraries.mjs", "serve"]'],
    });
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
    await run(["iam", "service-accounts", "create", "reader-sa"]);
    await run(["iam", "service-accounts", "create", "other-sa"]);
    const created = await gcloud(env, ["secrets", "create", "db-pass", "--data-file=-", "--quiet"], {
      stdin: "s3cret-value",
    });
    assert.equal(created.code, 0, created.stderr);
    await run([
      "secrets",
      "add-iam-policy-binding",
      "db-pass",
      `--member=serviceAccount:${READER_SA}`,
      "--role=roles/secretmanager.secretAccessor",
    ]);
    for (const [service, sa] of [
      ["reader", READER_SA],
      ["outsider", OTHER_SA],
    ] as const)
      await run(["run", "deploy", service, `--image=${IMAGE}`, `--service-account=${sa}`, "--allow-unauthenticated"]);
    keyDir = mkdtempSync(join(tmpdir(), "rg-key-"));
    await run(["iam", "service-accounts", "keys", "create", join(keyDir, "key.json"), `--iam-account=${READER_SA}`]);
  });
  after(async () => {
    await rg?.stop();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  it("inside a container: Secret Manager over gRPC, then REST, as the service's own account", async () => {
    assert.deepEqual(await inside("reader", "secret-grpc", SECRET), { ok: true, value: "s3cret-value" });
    assert.deepEqual(await inside("reader", "secret-rest", SECRET), { ok: true, value: "s3cret-value" });
  });

  it("inside a container: an account without access gets PERMISSION_DENIED over gRPC", async () => {
    const answer = await inside("outsider", "secret-grpc", SECRET);
    assert.equal(answer.ok, false);
    assert.equal(answer.code, PERMISSION_DENIED, JSON.stringify(answer));
    assert.match(answer.message ?? "", /secretmanager\.versions\.access/);
  });

  // Outside, only gRPC: google-gax's REST transport (`fallback: true`) uses an https.Agent of its own that
  // ignores the proxy variables, so on the host it looks the Google name up itself (docs/grpc.md).
  it("outside, after runguard env: Secret Manager over gRPC with the user's ADC", async () => {
    assert.deepEqual(await outside("secret-grpc", SECRET), { ok: true, value: "s3cret-value" });
  });

  it("outside: ADC from a service-account key file (self-signed JWT or token exchange, as the library chooses)", async () => {
    const key = { GOOGLE_APPLICATION_CREDENTIALS: join(keyDir, "key.json") };
    assert.deepEqual(await outside("secret-grpc", SECRET, key), { ok: true, value: "s3cret-value" });
  });

  it("outside: @google-cloud/run v2 over gRPC lists the services", async () => {
    const answer = await outside("run-services", `projects/${PROJECT}/locations/us-central1`);
    assert.deepEqual(answer.value, [
      `projects/${PROJECT}/locations/us-central1/services/outsider`,
      `projects/${PROJECT}/locations/us-central1/services/reader`,
    ]);
  });

  it("outside: @google-cloud/logging reads the service's request log", async () => {
    await inside("reader", "secret-rest", SECRET); // at least one request logged for `reader`
    const answer = await outside(
      "logging-entries",
      'resource.type="cloud_run_revision" AND resource.labels.service_name="reader" AND httpRequest.status=200',
    );
    assert.equal(answer.ok, true, JSON.stringify(answer));
    const entries = answer.value as Array<{ logName: string; status?: number }>;
    assert.ok(entries.length > 0, "request log entries found");
    for (const entry of entries) {
      assert.equal(entry.logName, `projects/${PROJECT}/logs/run.googleapis.com%2Frequests`);
      assert.equal(entry.status, 200);
    }
  });
});
