// Request bodies as Cloud Run takes them: curl's `Expect: 100-continue` gets 100 Continue and then the app's
// answer; bodies up to 32 MiB reach the instance intact, larger ones get 413; and nothing a client sends
// (bad Expect, aborted uploads, broken chunks) stops the healthy instance or starves other clients.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { deploy, registerTestImages } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";

const run = promisify(execFile);
const MiB = 1024 * 1024;

describe("request bodies and Expect: 100-continue", { timeout: 180_000 }, () => {
  let rg: TestRunguard;
  let host: string;
  let dir: string;
  const front = () => new URL(rg.endpoints.frontEnd);

  /** curl as a user runs it (it sends Expect: 100-continue by itself for bodies over 1 MiB). */
  const curlUpload = async (file: string, extra: string[] = []) => {
    const { stdout, stderr } = await run(
      "curl",
      [
        "-sS",
        "-v",
        "--max-time",
        "120",
        "-H",
        `Host: ${host}`,
        "--data-binary",
        `@${file}`,
        ...extra,
        "-w",
        "\n%{http_code}",
        `${rg.endpoints.frontEnd}/sha256`,
      ],
      { maxBuffer: 8 * MiB },
    );
    const lines = stdout.trimEnd().split("\n");
    return { status: Number(lines.pop()), body: lines.join("\n"), verbose: stderr };
  };
  const bodyFile = (name: string, size: number) => {
    const data = randomBytes(size);
    const file = join(dir, name);
    writeFileSync(file, data);
    return { file, sha256: createHash("sha256").update(data).digest("hex") };
  };
  const instancePid = async () =>
    JSON.parse((await invokeUrl(rg.endpoints.frontEnd, `https://${host}`)).body).pid as number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "rg-bodies-"));
    rg = await startTestRunguard();
    await registerTestImages(rg);
    const [url] = (await deploy(rg, "uploads", { public: true, concurrency: 80 })) as [string];
    host = new URL(url).host;
  });
  after(async () => {
    await rg.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("2 MiB and 30 MiB bodies reach the instance intact, after 100 Continue", async () => {
    const pid = await instancePid();
    for (const size of [2 * MiB, 30 * MiB]) {
      const { file, sha256 } = bodyFile(`body-${size}`, size);
      const answer = await curlUpload(file);
      assert.match(answer.verbose, /> Expect: 100-continue/i);
      assert.match(answer.verbose, /< HTTP\/1\.1 100 Continue/);
      assert.equal(answer.status, 200, answer.body);
      const echoed = JSON.parse(answer.body) as { sha256: string; length: number; pid: number };
      assert.equal(echoed.length, size);
      assert.equal(echoed.sha256, sha256);
      assert.equal(echoed.pid, pid, "the same instance answered");
    }
  });

  it("a 33 MiB body gets Cloud Run's 413, without 100 Continue; chunked too; the instance keeps serving", async () => {
    const pid = await instancePid();
    const { file } = bodyFile("body-33", 33 * MiB);
    const declared = await curlUpload(file);
    assert.equal(declared.status, 413);
    assert.match(declared.body, /413\..*That’s an error/s);
    assert.doesNotMatch(declared.verbose, /< HTTP\/1\.1 100 Continue/);
    const chunked = await curlUpload(file, ["-H", "Transfer-Encoding: chunked"]);
    assert.equal(chunked.status, 413);
    assert.equal(await instancePid(), pid);
  });

  it("a flood of bad Expect requests and aborted uploads stops no instance, and another client's requests all succeed", async () => {
    const pid = await instancePid();
    const { hostname, port } = front();
    const hostile = (request: string, abortAfterMs: number) =>
      new Promise<void>((resolve) => {
        const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(request));
        socket.on("error", () => undefined);
        socket.on("data", () => undefined);
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, abortAfterMs);
      });
    const floods: Array<Promise<void>> = [];
    const kinds = [
      // Expect, then the upload cut short.
      `POST /sha256 HTTP/1.1\r\nHost: ${host}\r\nExpect: 100-continue\r\nContent-Length: 5000000\r\n\r\n${"x".repeat(1000)}`,
      // An expectation nobody can meet.
      `POST /sha256 HTTP/1.1\r\nHost: ${host}\r\nExpect: 200-ok\r\nContent-Length: 5\r\n\r\nhello`,
      // Broken chunked encoding.
      `POST /sha256 HTTP/1.1\r\nHost: ${host}\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n`,
      // Chunks, then gone.
      `POST /sha256 HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`,
    ];
    for (let i = 0; i < 200; i++) floods.push(hostile(kinds[i % kinds.length] ?? "", 50 + (i % 10) * 20));
    let succeeded = 0;
    const others = (async () => {
      for (let i = 0; i < 40; i++) {
        const answer = await invokeUrl(rg.endpoints.frontEnd, `https://${host}`, {
          method: "POST",
          path: "/echo",
          body: `n=${i}`,
        });
        assert.equal(answer.status, 200, answer.body);
        assert.equal(JSON.parse(answer.body).body, `n=${i}`);
        succeeded++;
      }
    })();
    await Promise.all([...floods, others]);
    assert.equal(succeeded, 40);
    assert.equal(await instancePid(), pid, "the healthy instance was never stopped");
  });
});
