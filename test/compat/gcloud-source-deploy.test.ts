// `gcloud run deploy --source DIR` with the real, unchanged gcloud: it uploads the directory as a zip to
// runguard's Cloud Storage, asks Cloud Run's builds:submit for a build, polls Cloud Build's operation and deploys
// the image it reports. runguard builds it with podman and no network, FROM a base already in the local store.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestRunguard, PROJECT, type TestRunguard } from "../helpers/runguard-instance.js";
import { gcloud } from "../helpers/gcloud.js";
import { invokeUrl } from "../helpers/invoke.js";
import { buildBaseImage, podmanAvailable, removeImage } from "../helpers/test-image.js";

const skip = !podmanAvailable() || process.getuid?.() !== 0 ? "needs podman and root" : false;
const IMAGE = `us-central1-docker.pkg.dev/${PROJECT}/cloud-run-source-deploy/svc`;
const MISSING_BASE = "localhost/runguard-test/never-built:1";

function sourceDir(from: string, extra: Record<string, string | Buffer> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "runguard-source-"));
  writeFileSync(
    join(dir, "Dockerfile"),
    [`FROM ${from}`, "COPY server.mjs /srv/", 'CMD ["node", "/srv/server.mjs"]', ""].join("\n"),
  );
  writeFileSync(
    join(dir, "server.mjs"),
    [
      'import { createServer } from "node:http";',
      "createServer((req, res) => res.end(`built from source: ${process.env.K_SERVICE}`)).listen(Number(process.env.PORT));",
      "",
    ].join("\n"),
  );
  for (const [name, content] of Object.entries(extra)) writeFileSync(join(dir, name), content);
  return dir;
}

describe("gcloud run deploy --source", { skip }, () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  const dirs: string[] = [];
  let base: string;
  const deploy = (service: string, dir: string, environment = env) =>
    gcloud(
      environment,
      ["run", "deploy", service, "--source", dir, "--region=us-central1", "--allow-unauthenticated", "--quiet"],
      { timeoutMs: 120_000 },
    );

  before(async () => {
    base = buildBaseImage();
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
  });
  after(async () => {
    await rg?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    removeImage(`${IMAGE}:latest`);
  });

  it("builds the Dockerfile FROM a local base, deploys it, and the service answers", async () => {
    const dir = sourceDir(base);
    dirs.push(dir);
    const deployed = await deploy("svc", dir);
    assert.equal(deployed.code, 0, deployed.stderr);
    const described = await gcloud(env, [
      "run",
      "services",
      "describe",
      "svc",
      "--region=us-central1",
      "--format=value(status.url,spec.template.spec.containers[0].image)",
    ]);
    assert.equal(described.code, 0, described.stderr);
    const [url, image] = described.stdout.trim().split(/\s+/);
    assert.match(image ?? "", new RegExp(`^${IMAGE.replace(/[.]/g, "\\.")}@sha256:[0-9a-f]{64}$`));
    const answer = await invokeUrl(rg.endpoints.frontEnd, url ?? "");
    assert.equal(answer.status, 200, answer.body);
    assert.equal(answer.body, "built from source: svc");
    const objects = join(rg.dataDir, "storage", "objects");
    assert.deepEqual(readdirSync(objects), [], "the uploaded source is removed once built");
  });

  it("a second deploy finds the repository and the bucket, and uploads large sources resumably", async () => {
    // Over 5 MiB, apitools switches to a resumable upload; random bytes do not compress below that.
    const dir = sourceDir(base, { "blob.bin": randomBytes(6 * 1024 * 1024) });
    dirs.push(dir);
    const deployed = await deploy("svc", dir);
    assert.equal(deployed.code, 0, deployed.stderr);
  });

  it("a Dockerfile FROM a base that is not in the local store fails, and gcloud prints which base", async () => {
    const dir = sourceDir(MISSING_BASE);
    dirs.push(dir);
    const failed = await deploy("nobase", dir);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /localhost\/runguard-test\/never-built:1/);
    assert.match(failed.stderr, /not in the local image store/);
  });

  it("a caller without permission is refused", async () => {
    const dir = sourceDir(base);
    dirs.push(dir);
    const stranger = await rg.gcloudEnvFor("user:someone@example.com");
    const refused = await deploy("svc2", dir, stranger);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /PERMISSION_DENIED|does not have permission|Permission '[a-z.]+' denied/);
  });
});
