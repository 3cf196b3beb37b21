// Every instance is confined (issue 16): from inside an instance running as service account A, a hostile app
// can read nothing of runguard's data directory, nothing of another instance (HOME, secret file, metadata
// server, egress proxy), cannot see or signal runguard, runs as an unprivileged uid with no capabilities, and
// its own metadata token still works. Run for netns and process isolation; a SIGKILLed runguard's orphans are
// killed and their directories removed at the next start on the same data directory.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { deploy } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";
import { addImage } from "../../src/run/images.js";
import { runtimeRootOf, processStartTime } from "../../src/runtime/instance-dirs.js";
import { INSTANCE_UIDS } from "../../src/runtime/instance-uids.js";

const PROBE_IMAGE = "gcr.io/runguard-tests/confinement-probe";
const apps = fileURLToPath(new URL("../../../test/fixtures/apps/", import.meta.url));

interface Attempt {
  kind: string;
  target: string;
  ok: boolean;
  status?: number;
  error?: string;
}

async function api(rg: TestRunguard, method: string, path: string, body?: unknown, token?: string) {
  const response = await fetch(`${rg.endpoints.api}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token ?? (await rg.accessTokenFor(`user:${OWNER}`))}`,
      "content-type": "application/json",
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** A service account with a secret only it may read, and a probe service running as it with the secret as a file. */
async function probeService(rg: TestRunguard, name: string): Promise<{ url: string; email: string; secret: string }> {
  const email = `${name}@${PROJECT}.iam.gserviceaccount.com`;
  const secret = `${name}-secret-value`;
  assert.equal((await api(rg, "POST", `/v1/projects/${PROJECT}/serviceAccounts`, { accountId: name })).status, 200);
  const secrets = `/v1/projects/${PROJECT}/secrets`;
  await api(rg, "POST", `${secrets}?secretId=${name}`, { replication: { automatic: {} } });
  await api(rg, "POST", `${secrets}/${name}:addVersion`, {
    payload: { data: Buffer.from(secret).toString("base64") },
  });
  await api(rg, "POST", `${secrets}/${name}:setIamPolicy`, {
    policy: { bindings: [{ role: "roles/secretmanager.secretAccessor", members: [`serviceAccount:${email}`] }] },
  });
  const [url] = await deploy(rg, name, {
    image: PROBE_IMAGE,
    public: true,
    serviceAccount: email,
    secretVolumes: [{ mountPath: `/secrets/${name}`, secret: name }],
  });
  return { url: url ?? "", email, secret };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

for (const isolation of ["netns", "process"] as const) {
  describe(`instance confinement (${isolation} isolation)`, () => {
    let rg: TestRunguard;
    let a: { url: string; email: string; secret: string };
    let b: { url: string; email: string; secret: string };
    const call = async (url: string, path: string, body?: unknown) => {
      const result = await invokeUrl(rg.endpoints.frontEnd, url, {
        method: body ? "POST" : "GET",
        path,
        ...(body ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
      });
      assert.equal(result.status, 200, result.body);
      return JSON.parse(result.body) as unknown;
    };

    before(async () => {
      rg = await startTestRunguard({ isolation });
      await addImage(rg.platform.store, PROBE_IMAGE, apps, [process.execPath, "confinement-probe.mjs"]);
      a = await probeService(rg, "probe-a");
      b = await probeService(rg, "probe-b");
    });
    after(async () => rg.stop());

    it("reports every protection in force on this machine (root, setpriv, unshare)", () => {
      assert.equal(rg.endpoints.isolation, isolation);
      assert.deepEqual(rg.endpoints.confinement.missing, []);
    });

    it("from inside instance A every read of runguard's or B's files, sockets and process fails; A's own work", async () => {
      const selfA = (await call(a.url, "/self")) as Record<string, unknown>;
      const selfB = (await call(b.url, "/self")) as Record<string, unknown>;
      // A is unprivileged: a uid of runguard's range, no groups, no capabilities, no_new_privs.
      assert.notEqual(selfA["uid"], 0);
      assert.ok(
        Number(selfA["uid"]) >= INSTANCE_UIDS.first && Number(selfA["uid"]) < INSTANCE_UIDS.first + INSTANCE_UIDS.count,
      );
      assert.notEqual(selfA["uid"], selfB["uid"]);
      assert.deepEqual(selfA["groups"], [selfA["gid"]]);
      for (const field of ["capEff", "capPrm", "capBnd", "capAmb"]) assert.equal(Number(`0x${selfA[field]}`), 0, field);
      assert.equal(selfA["noNewPrivs"], "1");

      const root = runtimeRootOf(rg.dataDir);
      const secretFileOf = (value: string) =>
        filesUnder(join(root, "m")).find((file) => readFileSync(file, "utf8") === value) ?? "missing";
      const dataFiles = [
        "runguard.db",
        "keys/secrets.kek",
        "ca/ca-key.sealed",
        "iap-session.key.sealed",
        "endpoints.json",
      ].map((file) => join(rg.dataDir, file));
      await rg.gcloudEnvFor(); // signs gcloud in as the owner: its credential store under gcloud/ holds the token
      const credentials = filesUnder(join(rg.dataDir, "gcloud")).filter((file) => file.endsWith(".db"));
      assert.ok(credentials.length > 0);
      const forbidden = {
        read: [...new Set([...dataFiles, ...credentials])].concat([
          join(String(selfB["home"]), "private.txt"),
          secretFileOf(b.secret),
        ]),
        list: [rg.dataDir, join(rg.dataDir, "gcloud"), root, join(root, "h"), join(root, "m"), String(selfB["home"])],
        metadataSockets: filesUnder(join(root, "s")).filter((file) => file.endsWith(".sock")),
        metadataPorts: isolation === "process" ? [String(selfB["metadataHost"])] : [],
        proxyPorts: isolation === "process" ? [Number(new URL(String(selfB["proxy"])).port)] : [],
        pids: [process.pid],
      };
      for (const file of forbidden.read) assert.ok(existsSync(file), `${file} exists (the read is a real one)`);
      const attempts = (await call(a.url, "/probe", forbidden)) as Attempt[];
      const succeeded = attempts.filter((attempt) => attempt.ok);
      assert.deepEqual(succeeded, [], "nothing of runguard or of B is reachable from A");
      const refusedPorts = attempts.filter((attempt) => attempt.kind !== "read" && attempt.status === 403).length;
      if (isolation === "process") assert.ok(refusedPorts >= 2, "B's metadata server and proxy answer A with 403");
      // What A may read still reads.
      const allowed = (await call(a.url, "/probe", {
        read: [
          join(String(selfA["home"]), "private.txt"),
          isolation === "netns"
            ? "/secrets/probe-a/probe-a"
            : join(String(selfA["mountRoot"]), "secrets/probe-a/probe-a"),
          join(root, "ca", "ca-bundle.pem"),
        ],
      })) as Attempt[];
      assert.deepEqual(
        allowed.filter((attempt) => !attempt.ok),
        [],
      );
      // A's own token works, as A: it reads A's secret and not B's.
      const token = String(selfA["token"]);
      const access = (name: string) =>
        api(rg, "GET", `/v1/projects/${PROJECT}/secrets/${name}/versions/latest:access`, undefined, token);
      assert.equal((await access("probe-a")).status, 200);
      assert.equal((await access("probe-b")).status, 403);
      const tally: Record<string, string> = {};
      for (const kind of new Set(attempts.map((t) => t.kind))) {
        const ofKind = attempts.filter((t) => t.kind === kind);
        tally[kind] = `${ofKind.filter((t) => !t.ok).length}/${ofKind.length} refused`;
      }
      console.log(
        `# ${isolation}: ${attempts.length} forbidden attempts, all refused: ${JSON.stringify(tally)}; ${allowed.length} allowed reads succeeded`,
      );
    });
  });
}

describe("a restart after a SIGKILLed runguard", () => {
  it("kills the orphaned instance and removes its directories", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "runguard-test-"));
    const helpers = fileURLToPath(new URL("../helpers/", import.meta.url));
    const script = `
      import { startTestRunguard } from ${JSON.stringify(join(helpers, "runguard-instance.js"))};
      import { deploy, registerTestImages } from ${JSON.stringify(join(helpers, "deploy.js"))};
      import { invokeUrl } from ${JSON.stringify(join(helpers, "invoke.js"))};
      const rg = await startTestRunguard({ dataDir: ${JSON.stringify(dataDir)} });
      await registerTestImages(rg);
      const [url] = await deploy(rg, "orphan", { public: true });
      const answer = await invokeUrl(rg.endpoints.frontEnd, url, { path: "/" });
      console.log("ready " + answer.status);
      setInterval(() => undefined, 1000);`;
    // A module file, not --eval: runguard starts Node children that inherit its flags.
    const scriptFile = join(dataDir, "..", `${basename(dataDir)}-runguard.mjs`);
    writeFileSync(scriptFile, script);
    const child = spawn(process.execPath, [scriptFile], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) =>
      child.stdout?.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve()),
    );
    const records = readdirSync(join(dataDir, "instances")).filter((file) => file.endsWith(".json"));
    assert.equal(records.length, 1);
    const record = JSON.parse(readFileSync(join(dataDir, "instances", records[0] ?? ""), "utf8")) as {
      pid: number;
      startTime: string;
    };
    const root = runtimeRootOf(dataDir);
    assert.equal(readdirSync(join(root, "h")).length, 1, "the instance's HOME exists");
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    // The instance's launcher ends itself once runguard's channel closes; whatever is left is the next start's.
    const second = await startTestRunguard({ dataDir });
    try {
      await new Promise((r) => setTimeout(r, 300));
      assert.notEqual(processStartTime(record.pid), record.startTime, "the orphan is gone");
      assert.deepEqual(readdirSync(join(dataDir, "instances")), []);
      for (const dir of ["h", "m", "s"]) assert.deepEqual(readdirSync(join(root, dir)), [], `${dir} emptied`);
    } finally {
      await second.stop();
      rmSync(scriptFile, { force: true });
    }
    assert.equal(existsSync(root), false, "the runtime root goes when runguard stops");
  });
});
