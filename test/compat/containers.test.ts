// The images teams ship, run as containers: built here with podman (no network), deployed with the real
// gcloud by the reference users write, pinned by digest, called private and public, and run under Cloud Run's
// container contract with the image's own ENTRYPOINT, CMD, WORKDIR, USER and ENV.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startTestRunguard, PROJECT, type TestRunguard } from "../helpers/runguard-instance.js";
import { gcloud } from "../helpers/gcloud.js";
import { invokeUrl } from "../helpers/invoke.js";
import { buildAppImage, podmanAvailable, removeImage } from "../helpers/test-image.js";
import { fileURLToPath } from "node:url";

const APP = fileURLToPath(new URL("../../../test/fixtures/containers/app.mjs", import.meta.url));
const IMAGE = "localhost/runguard-test/app:1";
const REGISTRY_IMAGE = `us-docker.pkg.dev/${PROJECT}/apps/app:v1`;
const ROOT_IMAGE = "localhost/runguard-test/root-app:1";

interface Info {
  argv: string[];
  uid: number;
  gid: number;
  cwd: string;
  pid: number;
  env: Record<string, string>;
  root: string[];
  writeCwd: { ok: boolean; error?: string };
  writeRoot: { ok: boolean; error?: string };
}

const skip = !podmanAvailable() || process.getuid?.() !== 0 ? "needs podman and root" : false;

describe("container instances", { skip }, () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  let digest: string;
  let stopped = false;
  const run = (args: string[]) => gcloud(env, [...args, "--region=us-central1", "--quiet"]);
  const info = async (url: string, token?: string) => {
    const answer = await invokeUrl(rg.endpoints.frontEnd, url, {
      path: "/info",
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
    assert.equal(answer.status, 200, answer.body);
    return JSON.parse(answer.body) as Info;
  };
  const urlOf = async (service: string) => {
    const described = await run(["run", "services", "describe", service, "--format=value(status.url)"]);
    assert.equal(described.code, 0, described.stderr);
    return described.stdout.trim();
  };

  before(async () => {
    const files = { "/app/app.mjs": APP };
    digest = buildAppImage(IMAGE, {
      npmPackages: ["google-auth-library"],
      files,
      instructions: [
        "WORKDIR /app",
        "USER app",
        "ENV GREETING=from-image PORT=1234",
        'ENTRYPOINT ["node"]',
        'CMD ["/app/app.mjs"]',
      ],
    });
    execFileSync("podman", ["tag", IMAGE, REGISTRY_IMAGE]);
    buildAppImage(ROOT_IMAGE, {
      npmPackages: ["google-auth-library"],
      files,
      instructions: ["WORKDIR /app", 'CMD ["node", "/app/app.mjs"]'],
    });
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
  });
  after(async () => {
    if (!stopped) await rg?.stop();
    removeImage(REGISTRY_IMAGE);
  });

  it("runs here: the engine is found at start", () => {
    assert.equal(rg.endpoints.containers, "available");
  });

  it("deploys a local image with gcloud, private: 200 with a token, 403 without a binding, 401 without a token", async () => {
    const deployed = await run(["run", "deploy", "private-app", `--image=${IMAGE}`, "--no-allow-unauthenticated"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const url = await urlOf("private-app");
    const owner = await rg.idTokenFor("developer@example.com", url);
    const seen = await info(url, owner);
    assert.equal(seen.env["K_SERVICE"], "private-app");
    const stranger = await rg.idTokenFor("stranger@example.com", url);
    const refused = await invokeUrl(rg.endpoints.frontEnd, url, { headers: { authorization: `Bearer ${stranger}` } });
    assert.equal(refused.status, 403);
    const anonymous = await invokeUrl(rg.endpoints.frontEnd, url);
    assert.equal(anonymous.status, 403);
  });

  it("records the image's digest, as Cloud Run does, and shows it in revisions describe", async () => {
    const described = await run(["run", "revisions", "list", "--service=private-app", "--format=value(name)"]);
    const revision = described.stdout.trim().split("\n")[0] ?? "";
    const shown = await run(["run", "revisions", "describe", revision, "--format=value(status.imageDigest)"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.stdout.trim(), `localhost/runguard-test/app@${digest}`);
  });

  it("a registry-style name in the local store deploys, public, and by digest too", async () => {
    const deployed = await run(["run", "deploy", "public-app", `--image=${REGISTRY_IMAGE}`, "--allow-unauthenticated"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const seen = await info(await urlOf("public-app"));
    assert.equal(seen.env["K_SERVICE"], "public-app");
    const pinned = await run([
      "run",
      "deploy",
      "pinned-app",
      `--image=us-docker.pkg.dev/${PROJECT}/apps/app@${digest}`,
      "--allow-unauthenticated",
    ]);
    assert.equal(pinned.code, 0, pinned.stderr);
    assert.equal((await info(await urlOf("pinned-app"))).env["K_REVISION"]?.startsWith("pinned-app-"), true);
  });

  it("an unknown image gets Cloud Run's words and how to make it known", async () => {
    const failed = await run(["run", "deploy", "nope", "--image=localhost/not-built:1"]);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /Image 'localhost\/not-built:1' not found\./);
    assert.match(failed.stderr, /runguard build|podman load/);
  });

  it("follows the container contract: the image's ENTRYPOINT, CMD, WORKDIR, USER and ENV, with PORT and K_* set", async () => {
    const seen = await info(await urlOf("public-app"));
    assert.deepEqual(seen.argv, ["/app/app.mjs"]);
    assert.equal(seen.cwd, "/app");
    assert.equal(seen.uid, 1000, "the image's USER app is uid 1000 inside");
    assert.equal(seen.env["GREETING"], "from-image");
    assert.equal(seen.env["PORT"], "8080", "PORT is the contract's, not the image's ENV");
    assert.match(seen.env["K_REVISION"] ?? "", /^public-app-/);
    assert.equal(seen.env["K_CONFIGURATION"], "public-app");
    assert.equal(seen.env["GCE_METADATA_HOST"], undefined);
    assert.equal(seen.env["HTTPS_PROXY"], undefined);
    assert.ok(seen.root.includes("app") && !seen.root.includes("work"), "only the image's own root filesystem");
  });

  it("runs as an unprivileged host uid of the instance's own, never as root on the machine", async () => {
    const seen = await info(await urlOf("public-app"));
    const status = await invokeUrl(rg.endpoints.frontEnd, await urlOf("public-app"), {
      path: "/file?path=/proc/self/status",
    });
    const capabilities = (JSON.parse(status.body) as { value: string }).value;
    for (const set of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"])
      assert.match(capabilities, new RegExp(`${set}:\\s+0000000000000000`), `${set} is empty`);
    assert.match(capabilities, /NoNewPrivs:\s+1/);
    const hostPids = execFileSync("ps", ["-eo", "pid,uid,args"], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes("/app/app.mjs"));
    assert.ok(hostPids.length > 0);
    for (const line of hostPids) {
      const uid = Number(line.trim().split(/\s+/)[1]);
      assert.ok(uid >= 910_000, `container process runs as host uid ${uid}`);
    }
    assert.equal(seen.writeRoot.ok, false, "a non-root USER cannot write root's directories");
  });

  it("--command, --args and --set-env-vars override the image as on Cloud Run; root images may write anywhere, in memory", async () => {
    const deployed = await run([
      "run",
      "deploy",
      "root-app",
      `--image=${ROOT_IMAGE}`,
      "--allow-unauthenticated",
      "--command=node",
      "--args=/app/app.mjs,extra",
      "--set-env-vars=GREETING=from-deploy",
      "--port=80",
    ]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const seen = await info(await urlOf("root-app"));
    assert.deepEqual(seen.argv, ["/app/app.mjs", "extra"]);
    assert.equal(seen.env["PORT"], "80", "--port=80: a container with no capabilities listens on 80");
    assert.equal(seen.env["GREETING"], "from-deploy");
    assert.equal(seen.uid, 0);
    assert.equal(seen.writeRoot.ok, true, seen.writeRoot.error);
    assert.equal(seen.writeCwd.ok, true, seen.writeCwd.error);
  });

  it("a container whose process dies is replaced", async () => {
    const url = await urlOf("root-app");
    const before = await info(url);
    const killed = await invokeUrl(rg.endpoints.frontEnd, url, { path: "/crash" });
    assert.equal(killed.status, 200);
    let after: Info | undefined;
    for (let i = 0; i < 50 && !after; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const answer = await invokeUrl(rg.endpoints.frontEnd, url, { path: "/info" });
      if (answer.status === 200) after = JSON.parse(answer.body) as Info;
    }
    assert.ok(after, "a new instance answers");
    assert.equal(after.writeRoot.ok, true);
    assert.equal(before.env["K_SERVICE"], after.env["K_SERVICE"]);
  });

  it("--memory sets the container's memory limit on its cgroup", async () => {
    const updated = await run(["run", "services", "update", "root-app", "--memory=256Mi"]);
    assert.equal(updated.code, 0, updated.stderr);
    await info(await urlOf("root-app"));
    const limits = execFileSync("sh", ["-c", "cat /sys/fs/cgroup/memory/runguard/*/memory.limit_in_bytes"], {
      encoding: "utf8",
    });
    assert.ok(limits.split("\n").includes(String(256 * 1024 * 1024)), limits);
  });

  it("secrets arrive as env vars and as files at their real paths, readable by the image's USER only inside", async () => {
    const sa = `app-sa@${PROJECT}.iam.gserviceaccount.com`;
    assert.equal((await gcloud(env, ["iam", "service-accounts", "create", "app-sa"])).code, 0);
    for (const [secret, value] of [
      ["api-key", "env-canary-5e1f"],
      ["app-config", "file-canary-77a0"],
    ] as const) {
      assert.equal((await gcloud(env, ["secrets", "create", secret, "--data-file=-"], { stdin: value })).code, 0);
      const bound = await gcloud(env, [
        "secrets",
        "add-iam-policy-binding",
        secret,
        `--member=serviceAccount:${sa}`,
        "--role=roles/secretmanager.secretAccessor",
      ]);
      assert.equal(bound.code, 0, bound.stderr);
    }
    const deployed = await run([
      "run",
      "deploy",
      "secret-app",
      `--image=${IMAGE}`,
      `--service-account=${sa}`,
      "--set-secrets=API_KEY=api-key:latest,/secrets/config/app.json=app-config:latest",
      "--allow-unauthenticated",
    ]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const url = await urlOf("secret-app");
    const seen = await info(url);
    assert.equal(seen.env["API_KEY"], "env-canary-5e1f");
    const file = await invokeUrl(rg.endpoints.frontEnd, url, { path: "/file?path=/secrets/config/app.json" });
    assert.deepEqual(JSON.parse(file.body), { ok: true, value: "file-canary-77a0" });
    const described = await run(["run", "services", "describe", "secret-app", "--format=json"]);
    assert.doesNotMatch(described.stdout, /canary/);
    assert.doesNotMatch(execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }), /canary/);
  });

  it("on scale-down the container gets SIGTERM (SIGKILL only after 10 s)", async () => {
    const url = await urlOf("root-app");
    await info(url);
    // A new revision takes all traffic: the old one's instances are stopped.
    const updated = await run(["run", "services", "update", "root-app", "--update-env-vars=ROUND=2"]);
    assert.equal(updated.code, 0, updated.stderr);
    let said = false;
    for (let i = 0; i < 60 && !said; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const logs = await rg.platform.store.readLogs({
        logNamePrefix: `projects/${PROJECT}/logs/run.googleapis.com%2Fstdout`,
      });
      said = logs.some((entry) => JSON.stringify(entry.entry).includes("SIGTERM received"));
    }
    assert.ok(said, "the app logged the SIGTERM it got");
  });

  it("an image saved and loaded again (podman save / podman load) deploys by the name it was saved with", async () => {
    const tarball = join(mkdtempSync(join(tmpdir(), "runguard-save-")), "app.tar");
    const loadedName = "localhost/runguard-test/loaded:1";
    execFileSync("podman", ["tag", IMAGE, loadedName]);
    execFileSync("podman", ["save", "-q", "-o", tarball, loadedName]);
    removeImage(loadedName);
    execFileSync("podman", ["load", "-q", "-i", tarball]);
    const deployed = await run(["run", "deploy", "loaded-app", `--image=${loadedName}`, "--allow-unauthenticated"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.equal((await info(await urlOf("loaded-app"))).env["K_SERVICE"], "loaded-app");
    removeImage(loadedName);
    rmSync(dirname(tarball), { recursive: true, force: true });
  });

  it("keeps the container's filesystem out of the host's mount table", () => {
    const mounts = readFileSync("/proc/self/mounts", "utf8");
    assert.doesNotMatch(mounts, /fuse-overlayfs/);
  });

  it("once stopped, leaves no cgroup of its containers behind", async () => {
    await rg.stop();
    stopped = true;
    const services = ["private-app", "public-app", "pinned-app", "root-app", "secret-app", "loaded-app"];
    let left: string[] = [];
    try {
      left = readdirSync("/sys/fs/cgroup/memory/runguard").filter((name) =>
        services.some((service) => name.startsWith(`${service}-`)),
      );
    } catch {
      // no memory controller here, so no cgroup was made there
    }
    assert.deepEqual(left, []);
  });
});
