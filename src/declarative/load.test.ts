// loadState on hostile directories, with real files, symlinks and FIFOs: a state may only name regular files in
// its own directory (valueFile at most 64 KiB), declared Knative services must have the API's field types, and a
// service whose policy file's name is the project's, a secret's or an account's is refused.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isApiError } from "../core/errors.js";
import { loadState } from "./load.js";
import { MAX_SECRET_VALUE_BYTES, readSecretValueFile } from "./files.js";

const fixtures = fileURLToPath(new URL("../../../test/fixtures/import/", import.meta.url));

/** The INVALID_ARGUMENT message `work` is refused with. */
async function refusal(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
  } catch (error) {
    assert.ok(isApiError(error), `an ApiError, not ${String(error)}`);
    assert.equal(error.status, "INVALID_ARGUMENT");
    return error.message;
  }
  assert.fail("expected INVALID_ARGUMENT");
}

const service = (name: string, extra = "") => `apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: ${name}
spec:
  template:
    spec:
      containers:
      - image: us-docker.pkg.dev/cloudrun/container/hello
${extra}`;

const policy = (member: string) => JSON.stringify({ bindings: [{ role: "roles/run.invoker", members: [member] }] });

describe("loadState refuses what a hostile runguard.yaml or import directory holds", () => {
  let root: string;
  let dir: string;
  let outside: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), "rg-load-"));
    dir = join(root, "state");
    mkdirSync(dir);
    outside = join(root, "id_ed25519");
    writeFileSync(outside, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** Writes runguard.yaml with `text` in a fresh directory and loads it. */
  let count = 0;
  const stateDir = (files: Record<string, string> = {}) => {
    const path = join(dir, `case-${++count}`);
    mkdirSync(path);
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(path, name, ".."), { recursive: true });
      writeFileSync(join(path, name), text);
    }
    return path;
  };
  const secretFrom = (valueFile: string) => `secrets:\n  - name: k\n    valueFile: ${valueFile}\n`;

  it("valueFile: outside the directory, through a symlink, a device, a FIFO or over 65,536 bytes", async () => {
    const cases: Array<[string, (path: string) => void, RegExp]> = [
      ["../../id_ed25519", () => {}, /secrets\[0\]\.valueFile: \.\.\/\.\.\/id_ed25519 resolves to .*outside/],
      [outside, () => {}, /secrets\[0\]\.valueFile: .*id_ed25519 resolves to .*outside/],
      ["/dev/zero", () => {}, /secrets\[0\]\.valueFile: \/dev\/zero resolves to .*outside/],
      ["/proc/self/environ", () => {}, /secrets\[0\]\.valueFile: \/proc\/self\/environ resolves to .*outside/],
      ["key.txt", (path) => symlinkSync(outside, join(path, "key.txt")), /key\.txt resolves to .*id_ed25519, outside/],
      ["zero", (path) => symlinkSync("/dev/zero", join(path, "zero")), /zero resolves to \/dev\/zero, outside/],
      [
        "fifo",
        (path) => execFileSync("mkfifo", [join(path, "fifo")]),
        /secrets\[0\]\.valueFile: .*fifo is not a regular file/,
      ],
      ["sub", (path) => mkdirSync(join(path, "sub")), /secrets\[0\]\.valueFile: .*sub is not a regular file/],
      [
        "big.txt",
        (path) => writeFileSync(join(path, "big.txt"), Buffer.alloc(MAX_SECRET_VALUE_BYTES + 1, 0x61)),
        /big\.txt is larger than 65,536 bytes/,
      ],
    ];
    for (const [valueFile, prepare, message] of cases) {
      const path = stateDir({ "runguard.yaml": secretFrom(valueFile) });
      prepare(path);
      const text = await refusal(() => loadState(join(path, "runguard.yaml")));
      assert.match(text, /runguard\.yaml: secrets\[0\]\.valueFile: /, valueFile);
      assert.match(text, message, valueFile);
      assert.ok(!text.includes("BEGIN OPENSSH"), "the file's content is never in the message");
    }
    const exact = stateDir({ "runguard.yaml": secretFrom("ok.txt"), "ok.txt": "a".repeat(MAX_SECRET_VALUE_BYTES) });
    const loaded = await loadState(join(exact, "runguard.yaml"));
    assert.equal(loaded.secrets[0]?.valueFile, join(exact, "ok.txt"));
    const nested = stateDir({ "runguard.yaml": secretFrom("secrets/k.txt"), "secrets/k.txt": "v" });
    assert.equal((await loadState(nested)).secrets[0]?.valueFile, join(nested, "secrets", "k.txt"));
  });

  it("file: and iamPolicyFile: stay inside the directory too", async () => {
    writeFileSync(join(root, "svc.yaml"), service("web"));
    writeFileSync(join(root, "p.json"), policy("allUsers"));
    const viaFile = stateDir({ "runguard.yaml": "services:\n  - file: ../../svc.yaml\n" });
    assert.match(
      await refusal(() => loadState(viaFile)),
      /runguard\.yaml: services\[0\]\.file: \.\.\/\.\.\/svc\.yaml resolves to .*outside/,
    );
    const viaPolicy = stateDir({
      "runguard.yaml": "services:\n  - file: web.yaml\n    iamPolicyFile: p.json\n",
      "web.yaml": service("web"),
    });
    symlinkSync(join(root, "p.json"), join(viaPolicy, "p.json"));
    assert.match(
      await refusal(() => loadState(viaPolicy)),
      /runguard\.yaml: services\[0\]\.iamPolicyFile: p\.json resolves to .*outside/,
    );
  });

  it("a secret value file is read with a bound, whatever path a program gives apply", async () => {
    assert.match(await refusal(() => readSecretValueFile("/dev/zero", "valueFile")), /is not a regular file/);
    const big = join(root, "big");
    writeFileSync(big, Buffer.alloc(MAX_SECRET_VALUE_BYTES + 10));
    assert.match(await refusal(() => readSecretValueFile(big, "valueFile")), /larger than 65,536 bytes/);
    writeFileSync(big, "value");
    assert.equal((await readSecretValueFile(big, "valueFile")).toString(), "value");
  });

  it("declared services must have the API's field types: strings, string maps, numbers", async () => {
    const inline = (body: string) => `services:\n  - ${body.trim().split("\n").join("\n    ")}\n`;
    const cases: Array<[string, RegExp]> = [
      [
        `${service("a", "        env:\n        - name: A\n          value: x\n        - name: PORT\n          value: 8081")}`,
        /services\[0\]\.spec\.template\.spec\.containers\[0\]\.env\[1\]\.value: a string is expected/,
      ],
      [
        service("b").replace("  name: b", "  name: b\n  labels: {team: 7}"),
        /services\[0\]\.metadata\.labels\.team: a string is expected/,
      ],
      [
        service("c").replace("  template:", "  template:\n    metadata:\n      annotations: {x: {nested: y}}"),
        /services\[0\]\.spec\.template\.metadata\.annotations\.x: a string is expected/,
      ],
      [
        service("d").replace("  name: d", "  name: d\n  annotations:\n    __proto__: {polluted: true}"),
        /services\[0\]\.metadata\.annotations\.__proto__: a key named __proto__ is not allowed/,
      ],
      [
        `${service("e", "        command: [node, 7]")}`,
        /services\[0\]\.spec\.template\.spec\.containers\[0\]\.command\[1\]: a string is expected/,
      ],
      [
        `${service("f", "        ports:\n        - containerPort: '8080'")}`,
        /services\[0\]\.spec\.template\.spec\.containers\[0\]\.ports\[0\]\.containerPort: a number is expected/,
      ],
      [
        service("g").replace("      - image: us-docker.pkg.dev/cloudrun/container/hello", "      - image: [x]"),
        /services\[0\]\.spec\.template\.spec\.containers\[0\]\.image: a string is expected/,
      ],
    ];
    for (const [body, message] of cases) {
      const path = stateDir({ "runguard.yaml": inline(body) });
      assert.match(await refusal(() => loadState(path)), message, body);
      // The same service under `service:` and in a `file:`.
      const wrapped = stateDir({ "runguard.yaml": `services:\n  - file: s.yaml\n`, "s.yaml": body });
      const text = await refusal(() => loadState(wrapped));
      assert.match(text, /s\.yaml \(service [a-g]\): (metadata|spec)\./, text);
      // And in an import directory.
      const imported = stateDir({ "s.yaml": body });
      assert.match(await refusal(() => loadState(imported)), /s\.yaml \(service [a-g]\): (metadata|spec)\./);
    }
    const wrapped = stateDir({
      "runguard.yaml": inline(`service:\n  ${service("h", "        args: [1]").split("\n").join("\n  ")}`),
    });
    assert.match(
      await refusal(() => loadState(wrapped)),
      /services\[0\]\.service\.spec\.template\.spec\.containers\[0\]\.args\[0\]: a string is expected/,
    );
  });

  it("the import fixtures (a real project's exports) still load", async () => {
    const state = await loadState(fixtures);
    assert.deepEqual(state.services.map((s) => s.service.metadata.name).sort(), ["orders-api", "web"]);
    assert.ok(state.iam.bindings.length > 0);
  });

  it("a service named project, secret-X or sa-X beside a policy file of that name is ambiguous", async () => {
    for (const [name, owner] of [
      ["project", /the project's policy/],
      ["secret-db", /secret db's policy/],
      ["sa-runner", /service account runner's policy/],
    ] as const) {
      const path = stateDir({ "svc.yaml": service(name), [`${name}-policy.json`]: policy("allUsers") });
      const text = await refusal(() => loadState(path));
      assert.match(text, new RegExp(`${name}-policy\\.json: ambiguous: it could be`));
      assert.match(text, owner);
      assert.match(text, new RegExp(`iamPolicyFile: SUBDIR/${name}-policy\\.json`));
      // Without the policy file there is nothing to confuse.
      const alone = stateDir({ "svc.yaml": service(name) });
      assert.equal((await loadState(alone)).services[0]?.service.metadata.name, name);
    }
    // The way out the message gives: the service and its policy in a subdirectory, named by runguard.yaml.
    const resolved = stateDir({
      "runguard.yaml": "services:\n  - file: svc/project.yaml\n    iamPolicyFile: svc/project-policy.json\n",
      "svc/project.yaml": service("project"),
      "svc/project-policy.json": policy("allUsers"),
      "project-policy.json": policy("user:admin@example.com"),
    });
    const state = await loadState(resolved);
    assert.deepEqual(state.services[0]?.iamPolicy?.bindings[0]?.members, ["allUsers"]);
    assert.deepEqual(state.iam.bindings[0]?.members, ["user:admin@example.com"]);
  });
});
