// A container instance under attack: hostile code inside it, and a hostile image (its USER, its files).
// What it tries: the machine's files, processes, capabilities and loopback services; runguard's memory, disk
// and event loop. What must hold: nothing of the machine's or another principal's reaches it, and nothing it
// does stops or grows runguard without bound.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { deploy } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";
import { resolveImageUser } from "../../src/containers/image-user.js";
import { buildAppImage, podmanAvailable, removeImage } from "../helpers/test-image.js";

const APP = fileURLToPath(new URL("../../../test/fixtures/containers/attack.mjs", import.meta.url));
const IMAGE = "localhost/runguard-test/attack:1";
const ROOT_IMAGE = "localhost/runguard-test/attack-root:1";
const SECRET_FILE = fileURLToPath(new URL("../../../test/fixtures/containers/attack.mjs", import.meta.url));

/** A binary and the shared libraries it loads, as image files. */
function withLibraries(binary: string): Record<string, string> {
  const files: Record<string, string> = { [binary]: binary };
  const ldd = spawnSync("ldd", [binary], { encoding: "utf8" });
  for (const library of ldd.stdout.match(/\/[^\s)]+/g) ?? []) files[library] = library;
  return files;
}

describe("an image's USER is resolved inside the image, never through the machine's files", () => {
  let dir: string;
  /** Layer directories (top first), each made from path → content, or a symlink target as `-> target`. */
  const layers = (...specs: Array<Record<string, string>>) =>
    specs.map((spec, index) => {
      const layer = join(dir, `layer${index}-${Math.random().toString(36).slice(2)}`);
      for (const [path, content] of Object.entries(spec)) {
        mkdirSync(join(layer, path, ".."), { recursive: true });
        if (content.startsWith("-> ")) symlinkSync(content.slice(3), join(layer, path));
        else writeFileSync(join(layer, path), content);
      }
      mkdirSync(layer, { recursive: true });
      return layer;
    });
  let hostPasswd: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "runguard-image-user-"));
    // A file of the machine's, root's only, in passwd's format: what a hostile image wants runguard to read.
    mkdirSync(join(dir, "host"));
    hostPasswd = join(dir, "host/passwd");
    writeFileSync(hostPasswd, "victim:x:4242:4242::/:/bin/sh\n", { mode: 0o600 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("an absolute symlink at /etc/passwd resolves against the image's root", () => {
    const image = layers({ "etc/passwd": `-> ${hostPasswd}` }, { "etc/group": "" });
    assert.throws(() => resolveImageUser("victim", image), /not in its \/etc\/passwd/);
  });

  it("a symlinked /etc, and a relative symlink climbing out of the layer, stay inside the image", () => {
    assert.throws(() => resolveImageUser("victim", layers({ etc: `-> ${join(dir, "host")}` })), /not in its/);
    const climbing = layers({ "etc/passwd": `-> ../../../../../../../../${hostPasswd}` });
    assert.throws(() => resolveImageUser("victim", climbing), /not in its/);
  });

  it("a symlink to another file of the image still works, across layers", () => {
    const image = layers(
      { "etc/passwd": "-> ../usr/share/passwd" },
      { "usr/share/passwd": "app:x:1000:1001::/:/bin/sh\n" },
    );
    assert.deepEqual(resolveImageUser("app", image), { uid: 1000, gid: 1001 });
  });

  it("a whiteout in an upper layer hides the passwd of the layers below", () => {
    const [upper = "", lower = ""] = layers({ etc: "" }, { "etc/passwd": "victim:x:4242:4242::/:/bin/sh\n" });
    rmSync(join(upper, "etc"));
    mkdirSync(join(upper, "etc"));
    execFileSync("mknod", [join(upper, "etc/passwd"), "c", "0", "0"]);
    assert.throws(() => resolveImageUser("victim", [upper, lower]), /not in its/);
  });

  it("a FIFO at /etc/passwd does not block runguard's event loop", () => {
    const [layer = ""] = layers({ etc: "" });
    rmSync(join(layer, "etc"));
    mkdirSync(join(layer, "etc"));
    execFileSync("mkfifo", [join(layer, "etc/passwd")]);
    const module = new URL("../../src/containers/image-user.js", import.meta.url).href;
    const code = `import(${JSON.stringify(module)}).then((m) => { try { m.resolveImageUser("victim", [${JSON.stringify(layer)}]); } catch (e) { console.log(e.message); } })`;
    const child = spawnSync(process.execPath, ["-e", code], { encoding: "utf8", timeout: 10_000 });
    assert.equal(child.signal, null, "resolving the USER hung on the FIFO");
    assert.match(child.stdout, /not in its/);
  });

  it("a huge /etc/passwd is refused instead of read into runguard's memory", () => {
    const [layer = ""] = layers({ "etc/passwd": "" });
    truncateSync(join(layer, "etc/passwd"), 512 * 1024 * 1024);
    assert.throws(() => resolveImageUser("victim", [layer]), /larger than/);
  });
});

const skip = !podmanAvailable() || process.getuid?.() !== 0 ? "needs podman and root" : false;

describe("container attacks", { skip }, () => {
  let rg: TestRunguard;
  let url: string;
  let rootUrl: string;
  const call = async (path: string, service = url) => {
    const answer = await invokeUrl(rg.endpoints.frontEnd, service, { path });
    assert.equal(answer.status, 200, answer.body);
    return JSON.parse(answer.body) as Record<string, unknown>;
  };

  before(async () => {
    const files = {
      "/app/attack.mjs": APP,
      "/etc/secret-root-only": SECRET_FILE,
      ...withLibraries("/bin/sleep"),
      ...withLibraries("/usr/bin/unshare"),
      ...withLibraries("/bin/mount"),
      ...withLibraries("/bin/cat"),
    };
    buildAppImage(IMAGE, { files, instructions: ["USER app", 'CMD ["node", "/app/attack.mjs"]'] });
    buildAppImage(ROOT_IMAGE, { files, instructions: ['CMD ["node", "/app/attack.mjs"]'] });
    rg = await startTestRunguard();
    [url = ""] = await deploy(rg, "attack", { image: IMAGE, public: true });
    [rootUrl = ""] = await deploy(rg, "attack-root", { image: ROOT_IMAGE, public: true });
  });
  after(async () => {
    await rg?.stop();
    removeImage(IMAGE);
    removeImage(ROOT_IMAGE);
  });

  const runInside = async (argv: string[]) =>
    (await call(`/run?argv=${encodeURIComponent(JSON.stringify(argv))}`)) as {
      status: number | null;
      stdout: string;
      stderr: string;
    };

  it("sees none of the machine: no capabilities, only its own processes, no runguard ports, no host ids", async () => {
    const ports = [new URL(rg.endpoints.api).port, new URL(rg.endpoints.frontEnd).port];
    const seen = (await call(`/probe?ports=${ports.join(",")}`)) as {
      status: Record<string, string>;
      pids: string[];
      environs: Record<string, { value?: boolean }>;
      connects: Record<string, string>;
      sys: { value?: string[] };
      dev: { value?: string[] };
      [key: string]: unknown;
    };
    assert.equal(seen.status["CapEff"], "0000000000000000");
    assert.equal(seen.status["CapBnd"], "0000000000000000");
    assert.equal(seen.status["NoNewPrivs"], "1");
    assert.equal(seen.status["Seccomp"], "2");
    assert.deepEqual(seen.pids, ["1"]);
    assert.ok(
      Object.values(seen.environs).every((read) => read.value !== true),
      "no RUNGUARD_* environment",
    );
    for (const port of ports) assert.equal(seen.connects[port], "ECONNREFUSED", `runguard's port ${port}`);
    assert.equal(seen.connects["uidLock"], "ECONNREFUSED", "the machine's abstract sockets");
    assert.deepEqual(seen.sys.value, []);
    assert.ok(!seen.dev.value?.includes("fuse"));
    for (const key of ["kcore", "sysrq", "hostname", "setuid", "exe"])
      assert.equal((seen[key] as { ok: boolean }).ok, false, key);
    const map = await runInside(["/bin/cat", "/proc/self/uid_map"]);
    for (const line of map.stdout.trim().split("\n")) {
      const [, host = "0", size = "0"] = line.trim().split(/\s+/);
      assert.ok(Number(host) >= 910000 && Number(size) === 1, line);
    }
  });

  it("cannot make a user namespace of its own (a kernel's easiest attack surface: mount, keys, bpf)", async () => {
    const nested = await runInside(["/usr/bin/unshare", "-Urm", "/bin/mount", "-t", "tmpfs", "x", "/tmp"]);
    assert.notEqual(nested.status, 0, "unshare -Urm then mount succeeded inside the container");
  });

  it("files the app writes count against its memory limit, as on Cloud Run (its tmpfs is not a second allowance)", async () => {
    const filled = (await call("/fill?n=300", rootUrl)) as { written: number; error?: string };
    assert.equal(filled.written, 300, JSON.stringify(filled));
    const usage = execFileSync("sh", ["-c", "cat /sys/fs/cgroup/memory/runguard/attack-root-*/memory.usage_in_bytes"], {
      encoding: "utf8",
    });
    const charged = Math.max(...usage.trim().split("\n").map(Number));
    assert.ok(charged >= 300 * 1024 * 1024, `the instance's cgroup is charged ${charged} bytes for 300 MiB of files`);
  });

  it("a burst of output (5 MiB at once) reaches the logs and does not kill the container", async () => {
    const flooded = await call("/flood?n=5&newlines=1", rootUrl);
    assert.equal(flooded["flooded"], 5);
    assert.equal((await invokeUrl(rg.endpoints.frontEnd, rootUrl, { path: "/" })).status, 200);
  });

  it("output without a newline is logged in pieces as it comes, never held whole in runguard's memory", async () => {
    const flooded = await call("/flood?n=4", rootUrl);
    assert.equal(flooded["flooded"], 4);
    let pieces = 0;
    for (let tries = 0; tries < 50 && pieces < 60; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const logs = await rg.platform.store.readLogs({
        logNamePrefix: `projects/${PROJECT}/logs/run.googleapis.com%2Fstdout`,
      });
      pieces = logs.filter((entry) => /^A{65536}$/.test(String(entry.entry["textPayload"]))).length;
    }
    assert.ok(pieces >= 60, `${pieces} pieces of 64 KiB logged of 4 MiB without a newline`);
  });

  it("--memory=0 (no limit at all on a cgroup or a tmpfs) is refused with Cloud Run's range", async () => {
    const token = await rg.accessTokenFor("user:developer@example.com");
    const response = await fetch(`${rg.endpoints.api}/apis/serving.knative.dev/v1/namespaces/${PROJECT}/services`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        apiVersion: "serving.knative.dev/v1",
        kind: "Service",
        metadata: { name: "unbounded", namespace: PROJECT },
        spec: { template: { spec: { containers: [{ image: ROOT_IMAGE, resources: { limits: { memory: "0" } } }] } } },
      }),
    });
    assert.equal(response.status, 400, await response.text());
  });

  it("a fork bomb stops at the instance's process limit, and runguard keeps serving", async () => {
    const bomb = (await call("/spawn?n=1500")) as { started: number; alive: number; error?: string };
    assert.ok(bomb.alive < 1024, JSON.stringify(bomb));
    assert.equal(bomb.error, "EAGAIN");
    assert.equal((await invokeUrl(rg.endpoints.frontEnd, url, { path: "/" })).status, 200);
  });

  it("after runguard itself is killed (SIGKILL), its container instance ends: no process, no cgroup is left", async () => {
    const script = fileURLToPath(new URL("../../../test/fixtures/containers/runguard-to-kill.mjs", import.meta.url));
    const child = spawn(process.execPath, [script, ROOT_IMAGE], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        output += String(chunk);
        if (output.includes("ready")) resolve();
        if (output.includes("failed")) reject(new Error(output));
      });
      child.once("exit", () => reject(new Error(`exited early: ${output}`)));
    });
    child.kill("SIGKILL");
    const leftovers = () => ({
      processes: spawnSync("pgrep", ["-f", "runguard-killed-runguard-"], { encoding: "utf8" }).stdout.trim(),
      cgroups: existsSync("/sys/fs/cgroup/memory/runguard")
        ? readdirSync("/sys/fs/cgroup/memory/runguard").filter((name) => name.startsWith("killed-runguard-"))
        : [],
    });
    let left = leftovers();
    for (let tries = 0; tries < 50 && (left.processes !== "" || left.cgroups.length > 0); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      left = leftovers();
    }
    assert.deepEqual(left, { processes: "", cgroups: [] });
  });
});
