// One endpoint for every protocol: the control-plane port answers HTTP/1.1, TLS (HTTP/1.1 or h2 by ALPN), h2c
// and CONNECT for Google's hosts and *.run.app; `runguard env` points clients at it. Clients connect only to
// loopback: Google's names reach runguard through its proxy, never DNS.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, request as httpRequest, type Server } from "node:http";
import { connect as netConnect, type AddressInfo } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { ProxyAgent, fetch as undiciFetch } from "undici";
import { startTestRunguard, PROJECT, type TestRunguard } from "../helpers/runguard-instance.js";
import { deploy, registerTestImages } from "../helpers/deploy.js";
import { gcloud } from "../helpers/gcloud.js";
import { bin } from "../helpers/up-process.js";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const CLOUD_SDK_PYTHON = "/usr/lib/google-cloud-sdk/lib/third_party";
const SECRETS = `/v1/projects/${PROJECT}/secrets`;

/** What a raw connection gets back after sending `bytes`: the answer, and when the socket closed. */
function rawExchange(port: number, bytes: Buffer | string, waitMs = 15_000): Promise<{ answer: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = netConnect(port, "127.0.0.1", () => socket.write(bytes));
    let answer = "";
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("latin1")));
    socket.on("error", () => undefined);
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ answer, ms: Date.now() - started });
    });
  });
}

/** The ALPN protocol a TLS client offering `protocols` to `servername` ends up with (or the handshake error). */
function negotiate(port: number, servername: string, protocols: string[], ca: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, servername, ALPNProtocols: protocols, ca }, () => {
      resolve(socket.alpnProtocol || "none");
      socket.destroy();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(`error: ${error.code ?? error.message}`));
  });
}

describe("one endpoint for REST and gRPC, CONNECT, runguard env", () => {
  let rg: TestRunguard;
  let port: number;
  let ca: string;
  let token: string;
  let env: Record<string, string>;

  before(async () => {
    rg = await startTestRunguard();
    port = Number(new URL(rg.endpoints.api).port);
    ca = readFileSync(rg.endpoints.caCertificatePath, "utf8");
    token = await rg.accessTokenFor("user:developer@example.com");
    const printed = await run(process.execPath, [bin, "--data-dir", rg.dataDir, "env", "--format", "json"], {
      timeout: 60_000,
    });
    env = JSON.parse(printed.stdout) as Record<string, string>;
  });
  after(async () => rg.stop());

  it("HTTP/1.1 proxy requests (absolute-form target) still answer", async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port,
          path: `http://secretmanager.googleapis.com${SECRETS}`,
          headers: { authorization: `Bearer ${token}` },
        },
        (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.end();
    });
    assert.equal(answer.status, 200, answer.body);
  });

  it("TLS on the same port: a local-CA certificate for the SNI name, HTTP/1.1 unless the client offers only h2", async () => {
    assert.equal(await negotiate(port, "secretmanager.googleapis.com", ["h2", "http/1.1"], ca), "http/1.1");
    assert.equal(await negotiate(port, "secretmanager.googleapis.com", ["http/1.1"], ca), "http/1.1");
    assert.equal(await negotiate(port, "secretmanager.googleapis.com", ["h2"], ca), "h2");
    // Services answer HTTP/1.1 only; a name runguard does not serve gets no certificate.
    assert.match(await negotiate(port, "svc-abc.a.run.app", ["h2"], ca), /^error/);
    assert.match(await negotiate(port, "example.com", ["http/1.1"], ca), /^error/);
  });

  it("an h2-only TLS client and an h2c client are handed to the gRPC gateway, not the HTTP/1.1 parser", async () => {
    const h2c = await rawExchange(port, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00", 5_000);
    assert.doesNotMatch(h2c.answer, /^HTTP\/1/);
    const tls = await new Promise<string>((resolve) => {
      const socket = tlsConnect({
        host: "127.0.0.1",
        port,
        servername: "secretmanager.googleapis.com",
        ALPNProtocols: ["h2"],
        ca,
      });
      let answer = "";
      socket.on("secureConnect", () => socket.write("GET / HTTP/1.1\r\nHost: secretmanager.googleapis.com\r\n\r\n"));
      socket.on("data", (c: Buffer) => (answer += c.toString("latin1")));
      socket.on("error", () => undefined);
      socket.on("close", () => resolve(answer));
      setTimeout(() => socket.destroy(), 5_000);
    });
    assert.doesNotMatch(tls, /^HTTP\/1/);
  });

  it("CONNECT to a Google API host, then TLS: REST through undici's proxy agent", async () => {
    const dispatcher = new ProxyAgent({ uri: rg.endpoints.api, requestTls: { ca } });
    const response = await undiciFetch(`https://secretmanager.googleapis.com${SECRETS}`, {
      headers: { authorization: `Bearer ${token}` },
      dispatcher,
    });
    assert.equal(response.status, 200);
    const denied = await undiciFetch(`https://secretmanager.googleapis.com${SECRETS}`, { dispatcher });
    assert.equal(denied.status, 401);
    assert.equal(((await denied.json()) as { error: { status: string } }).error.status, "UNAUTHENTICATED");
    await dispatcher.close();
  });

  it("CONNECT to anything else is refused with 403, and runguard tunnels nowhere", async () => {
    for (const target of [
      "example.com:443",
      "secretmanager.googleapis.com:80",
      "127.0.0.1:22",
      "googleapis.com.evil.test:443",
    ]) {
      const { answer } = await rawExchange(port, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`, 5_000);
      assert.match(answer, /^HTTP\/1\.1 403/, target);
    }
  });

  it("*.run.app over CONNECT reaches the front end as it does directly", async () => {
    await registerTestImages(rg);
    const [url] = (await deploy(rg, "tunnelled", { public: true })) as [string];
    const host = new URL(url).host;
    const dispatcher = new ProxyAgent({ uri: rg.endpoints.api, requestTls: { ca } });
    const tunnelled = await undiciFetch(`https://${host}/hello?x=1`, { dispatcher });
    assert.equal(tunnelled.status, 200);
    const echo = (await tunnelled.json()) as { path: string; env: Record<string, string> };
    assert.equal(echo.path, "/hello?x=1");
    assert.equal(echo.env["K_SERVICE"], "tunnelled");
    await dispatcher.close();
    // fetch drops a Host header: node:http sends it as given.
    const direct = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const front = new URL(rg.endpoints.frontEnd);
      const req = httpRequest(
        { host: front.hostname, port: front.port, path: "/hello?x=1", headers: { host } },
        (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.end();
    });
    assert.equal(direct.status, 200);
    const directEcho = JSON.parse(direct.body) as { path: string; env: Record<string, string> };
    assert.deepEqual([directEcho.path, directEcho.env["K_SERVICE"]], [echo.path, echo.env["K_SERVICE"]]);
  });

  it("garbage gets a 400; a silent client, a half handshake and a half preface are closed within bounds", async () => {
    const garbage = await rawExchange(port, "\x01\x02garbage\r\n\r\n", 5_000);
    assert.match(garbage.answer, /^HTTP\/1\.1 400/);
    const stalled = await Promise.all([
      rawExchange(port, Buffer.alloc(0)),
      rawExchange(port, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])),
      rawExchange(port, "PRI * HTTP/2.0\r\n"),
    ]);
    for (const { ms } of stalled) {
      assert.ok(ms >= 9_000 && ms < 14_000, `closed after ${ms} ms`);
    }
    // Still serving.
    const ok = await rawExchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5_000);
    assert.match(ok.answer, /^HTTP\/1\.1 /);
  });

  it("runguard env: proxy, CA trust, ADC and project, with no plain-HTTP proxy", () => {
    for (const name of ["HTTPS_PROXY", "https_proxy", "grpc_proxy"]) assert.equal(env[name], rg.endpoints.api, name);
    for (const name of [
      "NODE_EXTRA_CA_CERTS",
      "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
      "REQUESTS_CA_BUNDLE",
      "SSL_CERT_FILE",
    ]) {
      const bundle = readFileSync(env[name] ?? "", "utf8");
      assert.ok(bundle.includes(ca.trim()), `${name} holds runguard's CA`);
    }
    assert.equal(env["GOOGLE_CLOUD_PROJECT"], PROJECT);
    const adc = JSON.parse(readFileSync(env["GOOGLE_APPLICATION_CREDENTIALS"] ?? "", "utf8")) as Record<string, string>;
    assert.equal(adc["type"], "authorized_user");
    assert.match(env["NO_PROXY"] ?? "", /127\.0\.0\.1/);
    assert.equal(env["HTTP_PROXY"], undefined);
    assert.equal(env["http_proxy"], undefined);
  });

  it("gcloud works with the env runguard env prints", async () => {
    const result = await gcloud(env, ["secrets", "list", "--format=json"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), []);
  });

  it("google-auth-library with the ADC file gets a token from runguard through HTTPS_PROXY and calls REST", async () => {
    const script = `
      import { GoogleAuth } from "google-auth-library";
      const auth = new GoogleAuth({ scopes: ["https://www.googleapis.com/auth/cloud-platform"] });
      const client = await auth.getClient();
      const { token } = await client.getAccessToken();
      const res = await client.request({ url: "https://secretmanager.googleapis.com${SECRETS}" });
      console.log(JSON.stringify({ token, status: res.status, project: await auth.getProjectId() }));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: repoRoot,
      env: { PATH: process.env["PATH"] ?? "", HOME: rg.dataDir, ...env },
      timeout: 60_000,
    });
    const out = JSON.parse(stdout) as { token: string; status: number; project: string };
    assert.equal(out.status, 200);
    assert.equal(out.project, PROJECT);
    const verified = await rg.platform.tokens.verifyAccessToken(out.token);
    assert.equal(verified?.principal.email, "developer@example.com");
  });

  it("Python google.auth with the same ADC file gets runguard's token through the proxy and the CA bundle", async () => {
    const script = [
      "import json, google.auth",
      "from google.auth.transport.requests import AuthorizedSession",
      "credentials, project = google.auth.default(scopes=['https://www.googleapis.com/auth/cloud-platform'])",
      `response = AuthorizedSession(credentials).get('https://secretmanager.googleapis.com${SECRETS}')`,
      "print(json.dumps({'status': response.status_code, 'project': project, 'token': credentials.token}))",
    ].join("\n");
    const { stdout } = await run("python3", ["-c", script], {
      // The Cloud SDK's bundled copy of google-auth and requests.
      env: { PATH: process.env["PATH"] ?? "", HOME: rg.dataDir, PYTHONPATH: CLOUD_SDK_PYTHON, ...env },
      timeout: 60_000,
    });
    const out = JSON.parse(stdout) as { token: string; status: number; project: string };
    assert.equal(out.status, 200);
    assert.equal(out.project, PROJECT);
    assert.equal((await rg.platform.tokens.verifyAccessToken(out.token))?.principal.email, "developer@example.com");
  });

  it("runguard env --as a service account: its ADC file is refreshed by the token endpoint too", async () => {
    const created = await fetch(`${rg.endpoints.api}/v1/projects/${PROJECT}/serviceAccounts`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ accountId: "adc-robot" }),
    });
    assert.equal(created.status, 200, await created.clone().text());
    const email = ((await created.json()) as { email: string }).email;
    const printed = await run(
      process.execPath,
      [bin, "--data-dir", rg.dataDir, "env", "--format", "json", "--as", `serviceAccount:${email}`],
      { timeout: 60_000 },
    );
    const robotEnv = JSON.parse(printed.stdout) as Record<string, string>;
    const script = `
      import { GoogleAuth } from "google-auth-library";
      const client = await new GoogleAuth({ scopes: ["https://www.googleapis.com/auth/cloud-platform"] }).getClient();
      console.log((await client.getAccessToken()).token);`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: repoRoot,
      env: { PATH: process.env["PATH"] ?? "", HOME: rg.dataDir, ...robotEnv },
      timeout: 60_000,
    });
    const verified = await rg.platform.tokens.verifyAccessToken(stdout.trim());
    assert.deepEqual(verified?.principal, { kind: "serviceAccount", email });
  });

  it("with the env, plain http:// to other hosts does not go through runguard; https:// ones are refused", async () => {
    let reached = 0;
    const elsewhere: Server = createServer((_req, res) => {
      reached++;
      res.end("elsewhere");
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
    const elsewherePort = (elsewhere.address() as AddressInfo).port;
    try {
      // --resolve maps the name to loopback only when curl connects directly: through a proxy it would not apply.
      const plain = await run(
        "curl",
        [
          "-sS",
          "-m",
          "10",
          "--resolve",
          `example.com:${elsewherePort}:127.0.0.1`,
          `http://example.com:${elsewherePort}/`,
        ],
        { env: { PATH: process.env["PATH"] ?? "", ...env } },
      );
      assert.equal(plain.stdout, "elsewhere");
      assert.equal(reached, 1);
      const secure = await run(
        "curl",
        ["-sS", "-m", "10", "-o", "/dev/null", "-w", "%{http_connect}", "https://example.com/"],
        {
          env: { PATH: process.env["PATH"] ?? "", ...env },
        },
      ).catch((error: { stdout: string }) => error);
      assert.equal(secure.stdout, "403");
    } finally {
      elsewhere.close();
    }
  });
});
