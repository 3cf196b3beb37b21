// The process guard `runguard up` installs: an error that escapes a request handler is logged without its
// secrets, and runguard (control plane, front end) keeps serving.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { withoutSecrets } from "../../src/app/process-guard.js";
import { NODE_FLAGS } from "../../src/app/node-flags.js";

const script = fileURLToPath(
  new URL("../../../test/fixtures/process-guard/up-with-throwing-handler.mjs", import.meta.url),
);

describe("the process guard of runguard up", { timeout: 60_000 }, () => {
  let dataDir: string;
  let up: ChildProcess;
  let stdout = "";
  let stderr = "";
  const port = (label: string) => Number(new RegExp(`${label}: +http://127\\.0\\.0\\.1:(\\d+)`).exec(stdout)?.[1]);

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "rg-guard-"));
    up = spawn(
      process.execPath,
      [
        // With up's Node settings given, up serves in this process instead of relaunching itself, so the
        // throwing listener runs beside it, under its process guard.
        ...NODE_FLAGS,
        script,
        "--data-dir",
        dataDir,
        "up",
        "--port",
        "0",
        "--front-end-port",
        "0",
        "--lb-port",
        "0",
        "--lb-https-port",
        "0",
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    up.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      up.once("exit", (code) => reject(new Error(`exited ${code}: ${stderr}`)));
      up.stdout?.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes("point gcloud:") && stdout.includes("throwing listener:")) resolve();
      });
    });
  });
  after(async () => {
    up.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("a thrown error and a rejected promise in request handlers do not end the process", async () => {
    const throwing = port("throwing listener");
    for (const path of ["/throw", "/reject", "/throw"])
      await fetch(`http://127.0.0.1:${throwing}${path}`, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
    assert.equal(up.exitCode, null, stderr);
    assert.equal(await (await fetch(`http://127.0.0.1:${throwing}/`)).text(), "ok");
    const certs = await fetch(`http://127.0.0.1:${port("control plane")}/oauth2/v1/certs`);
    assert.equal(certs.status, 200);
    const front = await fetch(`http://127.0.0.1:${port("front end")}/`, { headers: { host: "nothing.run.app" } });
    assert.equal(front.status, 404);
  });

  it("logs each escaped error, without the secrets in its message", () => {
    assert.equal(stderr.match(/escaped its handler/g)?.length, 3, stderr);
    assert.match(stderr, /thrown with \[REDACTED\]/);
    assert.match(stderr, /rejected with \[REDACTED\]/);
    assert.doesNotMatch(stderr, /fixture-secret/);
  });

  it("redacts token-, key- and password-shaped text", () => {
    const text = withoutSecrets(
      'id eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln at ya29.a0Abc, {"password": "hunter22"} -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----',
    );
    assert.doesNotMatch(text, /eyJ|ya29|hunter22|MIIE/);
  });
});
