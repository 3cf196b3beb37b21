// What an instance's outbound calls look like, as on Cloud Run: a service-to-service call reaches the callee
// without empty forwarding headers (the caller has no client address to add), and a CONNECT the egress proxy
// refuses says why in its body. Real instances (undici through the instance's egress proxy) and the real gcloud.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gcloud } from "../helpers/gcloud.js";
import { startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { ECHO_IMAGE, FETCHER_IMAGE, registerTestImages } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";

const run = promisify(execFile);
const bin = fileURLToPath(new URL("../../../bin/runguard.js", import.meta.url));
const R = "--region=us-central1";

/** A raw CONNECT through $HTTPS_PROXY, printing the proxy's whole answer (clients show only its status). */
const RAW_CONNECT = `
const { connect } = require("node:net");
const proxy = new URL(process.env.HTTPS_PROXY);
const socket = connect(Number(proxy.port), proxy.hostname, () =>
  socket.write("CONNECT " + process.argv[1] + " HTTP/1.1\\r\\nHost: " + process.argv[1] + "\\r\\n\\r\\n"));
let answer = "";
socket.on("data", (d) => (answer += d));
socket.on("close", () => process.stdout.write(answer));
`;

describe("instances' outbound calls", () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  const urls: Record<string, string> = {};
  const deploy = async (name: string, image: string) => {
    const result = await gcloud(env, ["run", "deploy", name, R, `--image=${image}`, "--allow-unauthenticated"]);
    assert.equal(result.code, 0, result.stderr);
    urls[name] = /Service URL: (\S+)/.exec(result.stderr)?.[1] ?? "";
  };

  before(async () => {
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
    await registerTestImages(rg);
    await deploy("callee", ECHO_IMAGE);
    await deploy("caller", FETCHER_IMAGE);
    const network = await gcloud(env, ["compute", "networks", "create", "my-vpc", "--subnet-mode=custom"]);
    assert.equal(network.code, 0, network.stderr);
  });
  after(async () => rg.stop());

  const headerSeenByCallee = async (name: string) => {
    const target = `${urls["callee"]}/header?name=${name}`;
    const answer = await invokeUrl(rg.endpoints.frontEnd, urls["caller"] ?? "", {
      path: `/?url=${encodeURIComponent(target)}`,
    });
    assert.equal(answer.status, 200, answer.body);
    const fetched = JSON.parse(answer.body) as { status?: number; body?: string; error?: string };
    assert.equal(fetched.status, 200, JSON.stringify(fetched));
    return fetched.body;
  };

  it("a service-to-service call carries no empty X-Forwarded-For or Forwarded for=", async () => {
    assert.equal(await headerSeenByCallee("x-forwarded-for"), "<absent>");
    assert.equal(await headerSeenByCallee("forwarded"), "proto=https");
    assert.equal(await headerSeenByCallee("x-forwarded-proto"), "https");
  });

  it("a call from outside still gets the client's address in both", async () => {
    const direct = async (name: string) =>
      (await invokeUrl(rg.endpoints.frontEnd, urls["callee"] ?? "", { path: `/header?name=${name}` })).body;
    assert.equal(await direct("x-forwarded-for"), "127.0.0.1");
    assert.equal(await direct("forwarded"), 'for="127.0.0.1";proto=https');
  });

  it("a refused CONNECT answers 403 with the reason in its body", async () => {
    const { stdout } = await run(
      process.execPath,
      [
        bin,
        "--data-dir",
        rg.dataDir,
        "vpc",
        "exec",
        "--network",
        "my-vpc",
        "--",
        process.execPath,
        "-e",
        RAW_CONNECT,
        "www.example.com:443",
      ],
      { timeout: 30_000 },
    );
    assert.match(stdout, /^HTTP\/1\.1 403 Forbidden\r\n/);
    const body = stdout.slice(stdout.indexOf("\r\n\r\n") + 4);
    assert.equal(
      body,
      "runguard egress: CONNECT www.example.com:443 refused: www.example.com is not reachable from this instance: runguard has no internet; only *.run.app, *.googleapis.com and the private resources of the revision's VPC network are\n",
    );
    const length = /content-length: (\d+)/i.exec(stdout)?.[1];
    assert.equal(Number(length), Buffer.byteLength(body));
    const privateAddress = await run(
      process.execPath,
      [
        bin,
        "--data-dir",
        rg.dataDir,
        "vpc",
        "exec",
        "--network",
        "my-vpc",
        "--",
        process.execPath,
        "-e",
        RAW_CONNECT,
        "10.8.0.9:5432",
      ],
      { timeout: 30_000 },
    );
    assert.match(
      privateAddress.stdout,
      /\r\n\r\nrunguard egress: CONNECT 10\.8\.0\.9:5432 refused: nothing answers at 10\.8\.0\.9:5432 in /,
    );
  });
});
