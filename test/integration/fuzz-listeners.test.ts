// No request can stop runguard: every listener of a real `runguard up` (its own process) is driven with
// malformed request lines, headers and bodies (fast-check, test/helpers/raw-http-fuzz.ts) for a bounded
// number of cases and time. No answer may be a 5xx, each listener must answer a normal request afterwards,
// the process must stay alive, and no error may have escaped a handler (the process guard would log it).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { fuzzListener, sendRaw, type FuzzListener, type FuzzReport } from "../helpers/raw-http-fuzz.js";
import { bin, spawnUp, whenUp, type UpProcess } from "../helpers/up-process.js";

const apps = fileURLToPath(new URL("../../../test/fixtures/apps/", import.meta.url));
const run = promisify(execFile);
const PROJECT = "my-gcp-project";
const ECHO = "gcr.io/runguard-tests/echo";
/** Per listener: at most this many cases, or this long, whichever comes first (9 listeners, under ~90 s). */
const NUM_RUNS = 1000;
const TIME_LIMIT_MS = 8_000;

describe("fuzzing every listener of runguard up", { timeout: 240_000 }, () => {
  let dataDir: string;
  let up: UpProcess;
  let api: string;
  let token: string;
  let serviceHost: string;
  const reports: FuzzReport[] = [];
  const cli = (...args: string[]) => run(process.execPath, [bin, "--data-dir", dataDir, ...args], { timeout: 60_000 });
  const alive = () => up.child.exitCode === null && up.child.signalCode === null;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as Record<string, unknown>;
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const endpoint = (label: string) => {
    const match = new RegExp(`${label}: +http://127\\.0\\.0\\.1:(\\d+)`).exec(up.stdout());
    assert.ok(match, `${label} in ${up.stdout()}`);
    return Number(match[1]);
  };
  const fuzz = async (listener: FuzzListener) => {
    const report = await fuzzListener(listener, { numRuns: NUM_RUNS, timeLimitMs: TIME_LIMIT_MS, alive });
    reports.push(report);
    console.log(`# fuzz ${report.listener}: ${report.cases} cases, answers ${JSON.stringify(report.statuses)}`);
    assert.ok(report.cases >= 20, `${report.listener}: only ${report.cases} cases ran`);
  };
  const get = (host: string, path = "/", extra = "") =>
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "rg-fuzz-"));
    // The instances' sidecar sockets are made under the temporary directory: a private one, to find them.
    mkdirSync(join(dataDir, "tmp"));
    up = spawnUp(dataDir, [], { env: { TMPDIR: join(dataDir, "tmp") } });
    await whenUp(up);
    api = `http://127.0.0.1:${endpoint("control plane")}`;
    await cli("images", "add", ECHO, "--dir", apps, "--", process.execPath, "echo.mjs");
    const env = JSON.parse((await cli("env", "--format", "json")).stdout) as Record<string, string>;
    // gcloud is signed in as the owner in the configuration `runguard env` names; its token is the owner's.
    token = (
      await run("gcloud", ["auth", "print-access-token"], { env: { ...process.env, ...env }, timeout: 60_000 })
    ).stdout.trim();
    const service = await call("POST", `/apis/serving.knative.dev/v1/namespaces/${PROJECT}/services`, {
      apiVersion: "serving.knative.dev/v1",
      kind: "Service",
      metadata: { name: "fuzzed", namespace: PROJECT },
      spec: { template: { spec: { containers: [{ image: ECHO }] } } },
    });
    await call("POST", `/v1/projects/${PROJECT}/locations/us-central1/services/fuzzed:setIamPolicy`, {
      policy: { bindings: [{ role: "roles/run.invoker", members: ["allUsers"] }] },
    });
    const urls = JSON.parse(
      (service["metadata"] as { annotations: Record<string, string> }).annotations["run.googleapis.com/urls"] ?? "[]",
    ) as string[];
    serviceHost = new URL(urls[0] ?? "").host;
  });

  after(async () => {
    if (alive()) {
      const stuck = setTimeout(() => up.child.kill("SIGKILL"), 15_000);
      await up.stop();
      clearTimeout(stuck);
    }
    rmSync(dataDir, { recursive: true, force: true });
    console.log(`# fuzz cases per listener: ${reports.map((r) => `${r.listener} ${r.cases}`).join(", ")}`);
  });

  it("the front end", async () => {
    const port = endpoint("front end");
    await fuzz({
      name: "front end",
      address: { port },
      hosts: [serviceHost, `127.0.0.1:${port}`, "unknown.run.app"],
      targets: ["/", "/sha256", "/hello?x=1", "/stream?chunks=2"],
      healthy: { request: get(serviceHost), status: 200 },
    });
  });

  it("a per-service port", async () => {
    const { stdout: listed } = await cli("services", "list");
    const port = Number(/without a Host header: http:\/\/127\.0\.0\.1:(\d+)/.exec(listed)?.[1]);
    assert.ok(port > 0, listed);
    await fuzz({
      name: "per-service port",
      address: { port },
      hosts: [`127.0.0.1:${port}`, serviceHost],
      targets: ["/", "/sha256"],
      healthy: { request: get(`127.0.0.1:${port}`), status: 200 },
    });
  });

  /** The instance's sidecar sockets (netns), or the loopback ports its environment names (process mode). */
  const sidecar = async (name: "metadata" | "egress"): Promise<FuzzListener["address"]> => {
    // The runtime root is TMPDIR/rg-HASH, each instance's sockets in its s/ directory.
    const socket = readdirSync(join(dataDir, "tmp"), { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(`${name}.sock`))
      .map((file) => join(dataDir, "tmp", file))[0];
    if (socket) return { path: socket };
    const variable = name === "metadata" ? "GCE_METADATA_HOST" : "HTTP_PROXY";
    const answer = await fetch(`http://127.0.0.1:${endpoint("front end")}/env?name=${variable}`, {
      headers: { host: serviceHost },
    }).then((r) => r.text());
    return { port: Number(/:(\d+)\/?$/.exec(answer)?.[1]) };
  };

  it("an instance's metadata server", async () => {
    await fuzz({
      name: "metadata server",
      address: await sidecar("metadata"),
      hosts: ["metadata.google.internal", "169.254.169.254", "127.0.0.1:8901"],
      targets: [
        "/computeMetadata/v1/instance/service-accounts/default/token",
        "/computeMetadata/v1/instance/service-accounts/default/identity?audience=x",
        "/computeMetadata/v1/project/project-id",
      ],
      extraHeaders: [["Metadata-Flavor", "Google"]],
      healthy: {
        request: get(
          "metadata.google.internal",
          "/computeMetadata/v1/project/project-id",
          "Metadata-Flavor: Google\r\n",
        ),
        status: 200,
      },
    });
  });

  /** The egress proxy refuses a well-formed request for a destination outside the network with 502, by design. */
  // (An answer to HEAD has no body to say so.)
  const egressRefusal = (status: number, answer: string, request: string) =>
    status === 502 && (answer.includes("runguard egress:") || request.startsWith("HEAD "));
  const proxyTargets = (host: string) => [
    `http://${host}/`,
    `http://${host}/sha256`,
    "http://oauth2.googleapis.com/tokeninfo",
    "http://example.com/",
    `${host}:443`,
    "example.com:443",
  ];

  it("an instance's egress proxy", async () => {
    await fuzz({
      name: "egress proxy",
      address: await sidecar("egress"),
      hosts: [serviceHost, "example.com"],
      targets: proxyTargets(serviceHost),
      accepts5xx: egressRefusal,
      healthy: {
        request: `GET http://${serviceHost}/ HTTP/1.1\r\nHost: ${serviceHost}\r\nConnection: close\r\n\r\n`,
        status: 200,
      },
    });
  });

  it("a vpc exec proxy port", async () => {
    await call("POST", `/compute/v1/projects/${PROJECT}/global/networks`, {
      name: "fuzz-vpc",
      autoCreateSubnetworks: false,
    });
    const opened = await call("POST", `/runguard/v1/projects/${PROJECT}/global/networks/fuzz-vpc:openEgress`, {});
    const port = Number(new URL(String(opened["proxyUrl"])).port);
    await fuzz({
      name: "vpc exec proxy",
      address: { port },
      hosts: [serviceHost, "example.com"],
      targets: proxyTargets(serviceHost),
      accepts5xx: egressRefusal,
      healthy: {
        request: `GET http://${serviceHost}/ HTTP/1.1\r\nHost: ${serviceHost}\r\nConnection: close\r\n\r\n`,
        status: 200,
      },
    });
    await call("POST", `/runguard/v1/projects/${PROJECT}/global/networks/fuzz-vpc:closeEgress`, {
      proxyUrl: opened["proxyUrl"],
    });
  });

  it("the load balancer over HTTP", async () => {
    const port = /load balancer: +http:\/\/127\.0\.0\.1:(\d+)/.exec(up.stdout())?.[1];
    await fuzz({
      name: "load balancer HTTP",
      address: { port: Number(port) },
      hosts: ["app.example.test", serviceHost],
      targets: ["/", "/_gcp_gatekeeper/authenticate?state=%", "/_gcp_iap/clear_login_cookie"],
      healthy: { request: get("app.example.test"), status: 404 },
    });
  });

  it("the load balancer over HTTPS", async () => {
    const port = /and https:\/\/127\.0\.0\.1:(\d+)/.exec(up.stdout())?.[1];
    await fuzz({
      name: "load balancer HTTPS",
      address: { port: Number(port), tls: { servername: "app.example.test" } },
      hosts: ["app.example.test"],
      targets: ["/", "/_gcp_gatekeeper/authenticate?state=%"],
      healthy: { request: get("app.example.test"), status: 404 },
    });
  });

  it("the control plane", async () => {
    const port = endpoint("control plane");
    await fuzz({
      name: "control plane",
      address: { port },
      hosts: [
        `127.0.0.1:${port}`,
        "run.googleapis.com",
        "us-central1-run.googleapis.com",
        "secretmanager.googleapis.com",
      ],
      targets: [
        `/v1/projects/${PROJECT}/secrets`,
        `/apis/serving.knative.dev/v1/namespaces/${PROJECT}/services`,
        "http://run.googleapis.com/v2/projects/x/locations/y/services",
        "/token",
        "/oauth2/v1/certs",
      ],
      extraHeaders: [
        ["Authorization", `Bearer ${token}`],
        ["Content-Type", "application/json"],
      ],
      healthy: { request: get(`127.0.0.1:${port}`, "/oauth2/v1/certs"), status: 200 },
    });
  });

  it("the requests that used to stop runguard get 400s", async () => {
    const metadata: FuzzListener = {
      name: "metadata",
      address: await sidecar("metadata"),
      hosts: [],
      healthy: { request: "", status: 0 },
    };
    const egress: FuzzListener = { ...metadata, name: "egress", address: await sidecar("egress") };
    const controlPlane: FuzzListener = {
      ...metadata,
      name: "control plane",
      address: { port: endpoint("control plane") },
    };
    assert.match(
      await sendRaw(metadata, "GET //[ HTTP/1.1\r\nHost: x\r\nMetadata-Flavor: Google\r\n\r\n"),
      /^HTTP\/1\.1 400 /,
    );
    assert.match(await sendRaw(egress, "GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n"), /^HTTP\/1\.1 400 /);
    const badHost = await sendRaw(controlPlane, "GET /v1/projects/p/secrets HTTP/1.1\r\nHost: [\r\n\r\n");
    assert.match(badHost, /^HTTP\/1\.1 400 [\s\S]*"status":"INVALID_ARGUMENT"/);
    const badEscape = await sendRaw(
      controlPlane,
      `GET /v1/projects/%E0%A4%A/secrets HTTP/1.1\r\nHost: secretmanager.googleapis.com\r\nAuthorization: Bearer ${token}\r\n\r\n`,
    );
    assert.match(badEscape, /^HTTP\/1\.1 400 [\s\S]*"status":"INVALID_ARGUMENT"/);
    assert.ok(alive());
  });

  it("no error escaped a handler during the runs", () => {
    assert.ok(alive());
    assert.doesNotMatch(up.stderr(), /escaped its handler/);
  });
});
