// A secret mounted as a file follows its version's state, as on Cloud Run (which reads the volume from Secret
// Manager on each read): once the version the file shows is disabled or destroyed, or `latest` names such a
// version, a read fails; re-enabling the version serves it again. Driven with the real gcloud against a running
// instance that reads its file on every request.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { gcloud } from "../helpers/gcloud.js";
import { PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { ECHO_IMAGE, registerTestImages } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";

const SA = `files-sa@${PROJECT}.iam.gserviceaccount.com`;

describe("a mounted secret file follows its version's state", () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  let url = "";
  const g = async (args: string[], stdin?: string) => {
    const result = await gcloud(env, args, stdin === undefined ? {} : { stdin });
    assert.equal(result.code, 0, `gcloud ${args.join(" ")}: ${result.stderr}`);
    return result;
  };
  const read = async (path: string) =>
    (await invokeUrl(rg.endpoints.frontEnd, url, { path: `/file?path=${path}` })).body;
  /** The file is brought in line asynchronously after the change: wait (bounded) for the expected content. */
  const expectFile = async (path: string, expected: string) => {
    let seen = "";
    for (let i = 0; i < 50; i++) {
      seen = await read(path);
      if (seen === expected) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(seen, expected, path);
  };

  before(async () => {
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
    await registerTestImages(rg);
    await g(["iam", "service-accounts", "create", "files-sa"]);
    await g(["secrets", "create", "api-key", "--data-file=-"], "key-v1");
    await g([
      "secrets",
      "add-iam-policy-binding",
      "api-key",
      `--member=serviceAccount:${SA}`,
      "--role=roles/secretmanager.secretAccessor",
    ]);
    const deployed = await g([
      "run",
      "deploy",
      "files-app",
      `--image=${ECHO_IMAGE}`,
      "--region=us-central1",
      `--service-account=${SA}`,
      "--set-secrets=/secrets/latest=api-key:latest,/pinned/one=api-key:1",
      "--allow-unauthenticated",
    ]);
    url = /Service URL: (\S+)/.exec(deployed.stderr)?.[1] ?? "";
    await expectFile("/secrets/latest", "key-v1");
    await expectFile("/pinned/one", "key-v1");
  });
  after(async () => rg.stop());

  it("a `latest` file stops serving a disabled newest version and serves it again once re-enabled", async () => {
    await g(["secrets", "versions", "add", "api-key", "--data-file=-"], "key-v2");
    await expectFile("/secrets/latest", "key-v2");
    await g(["secrets", "versions", "disable", "2", "--secret=api-key"]);
    await expectFile("/secrets/latest", "<missing>");
    await expectFile("/pinned/one", "key-v1");
    await g(["secrets", "versions", "enable", "2", "--secret=api-key"]);
    await expectFile("/secrets/latest", "key-v2");
  });

  it("a pinned file stops serving its version while it is disabled", async () => {
    await g(["secrets", "versions", "disable", "1", "--secret=api-key"]);
    await expectFile("/pinned/one", "<missing>");
    await expectFile("/secrets/latest", "key-v2");
    await g(["secrets", "versions", "enable", "1", "--secret=api-key"]);
    await expectFile("/pinned/one", "key-v1");
  });

  it("a destroyed version is never served again, and nothing is served once every version is disabled", async () => {
    await g(["secrets", "versions", "destroy", "2", "--secret=api-key", "--quiet"]);
    await expectFile("/secrets/latest", "<missing>");
    await g(["secrets", "versions", "disable", "1", "--secret=api-key"]);
    await expectFile("/pinned/one", "<missing>");
    await expectFile("/secrets/latest", "<missing>");
    await g(["secrets", "versions", "add", "api-key", "--data-file=-"], "key-v3");
    await expectFile("/secrets/latest", "key-v3");
    await expectFile("/pinned/one", "<missing>");
  });
});
