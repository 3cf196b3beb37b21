// The README's "Your own service" steps, as a user runs them: `runguard build` of examples/hello-container, the
// real gcloud deploy with --image, and the calls through the front end (403 without a token, 200 with one). The
// example's base (docker.io/library/node:22-slim) cannot be pulled here, so when the store lacks it the test
// makes a stand-in from the test base image (with the `node` user the Dockerfile runs as) and removes it after.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { gcloud } from "../helpers/gcloud.js";
import { invokeUrl } from "../helpers/invoke.js";
import { buildBaseImage, podmanAvailable, removeImage } from "../helpers/test-image.js";

const bin = fileURLToPath(new URL("../../../bin/runguard.js", import.meta.url));
const example = fileURLToPath(new URL("../../../examples/hello-container/", import.meta.url));
const BASE = "docker.io/library/node:22-slim";
const TAG = "localhost/hello-container:readme-test";

const skip = !podmanAvailable() || process.getuid?.() !== 0 ? "needs podman and root" : false;

describe("README: your own service", { skip }, () => {
  let rg: TestRunguard;
  let standIn = false;

  before(async () => {
    if (spawnSync("podman", ["image", "exists", BASE]).status !== 0) {
      const context = mkdtempSync(join(tmpdir(), "rg-readme-"));
      writeFileSync(join(context, "passwd"), "root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n");
      writeFileSync(join(context, "Containerfile"), `FROM ${buildBaseImage()}\nCOPY passwd /etc/passwd\n`);
      execFileSync("podman", ["build", "--pull=never", "-q", "-t", BASE, context], { stdio: "ignore" });
      rmSync(context, { recursive: true, force: true });
      standIn = true;
    }
    rg = await startTestRunguard();
  });
  after(async () => {
    await rg?.stop();
    removeImage(TAG);
    if (standIn) removeImage(BASE);
  });

  it("builds the example, deploys it private with gcloud, and answers 403 without a token and 200 with one", async () => {
    const built = await promisify(execFile)(process.execPath, [bin, "build", "--tag", TAG, "."], {
      cwd: example,
      timeout: 180_000,
    });
    assert.match(built.stdout, new RegExp(`Built ${TAG}`));
    const env = await rg.gcloudEnvFor();
    const deployed = await gcloud(env, [
      "run",
      "deploy",
      "hello",
      `--image=${TAG}`,
      "--no-allow-unauthenticated",
      "--region=us-central1",
    ]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const described = await gcloud(env, [
      "run",
      "services",
      "describe",
      "hello",
      "--region=us-central1",
      "--format=value(status.url)",
    ]);
    const url = described.stdout.trim();
    assert.equal((await invokeUrl(rg.endpoints.frontEnd, url)).status, 403);
    const token = await rg.idTokenFor("developer@example.com", url);
    const answer = await invokeUrl(rg.endpoints.frontEnd, url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(answer.status, 200);
    assert.match(answer.body, /^Hello from hello \(hello-00001-[a-z0-9]+\)\n$/);
  });
});
