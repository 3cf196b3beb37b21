// The front end enforces invoker IAM exactly like Cloud Run (fidelity reference §1), on real instances.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { request } from "node:http";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { deploy, registerTestImages, setInvokers, FAIL_IMAGE } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";
import { forbiddenPage, unauthorizedPage } from "../../src/gateway/pages.js";

interface Echo {
  pid: number;
  instance: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  env: Record<string, string>;
}

describe("invocation control", () => {
  let rg: TestRunguard;
  let privateUrl: string;
  let publicUrl: string;
  const idToken = (email: string, audience: string, kind: "user" | "serviceAccount" = "user") =>
    rg.idTokenFor(email, audience, kind);
  const call = (url: string, headers: Record<string, string | string[]> = {}, path = "/") =>
    invokeUrl(rg.endpoints.frontEnd, url, { headers, path });
  /** The request log so far, newest first as stored, once the front end has flushed it. */
  const requestLogs = async (limit: number) => {
    await rg.dataPlane.flushLogs();
    return rg.platform.store.readLogs({
      logNamePrefix: `projects/${PROJECT}/logs/run.googleapis.com%2Frequests`,
      limit,
    });
  };
  /** The statuses logged for requests whose URL starts with `prefix`. */
  const loggedStatuses = async (prefix: string) =>
    (await requestLogs(50))
      .map((r) => r.entry["httpRequest"] as { requestUrl: string; status: number })
      .filter((h) => h.requestUrl.startsWith(prefix))
      .map((h) => h.status);

  before(async () => {
    rg = await startTestRunguard();
    await registerTestImages(rg);
    [privateUrl] = (await deploy(rg, "private-api", { env: { GREETING: "hi" } })) as [string];
    [publicUrl] = (await deploy(rg, "public-api", { public: true })) as [string];
  });
  after(async () => rg.stop());

  it("a public service answers anyone, cold-starting an instance with the container contract", async () => {
    const result = await call(publicUrl, {}, "/hello?x=1");
    assert.equal(result.status, 200);
    const echo = JSON.parse(result.body) as Echo;
    assert.equal(echo.path, "/hello?x=1");
    assert.equal(echo.env["K_SERVICE"], "public-api");
    assert.match(echo.env["K_REVISION"] ?? "", /^public-api-00001-[a-z0-9]{3}$/);
    assert.equal(echo.env["K_CONFIGURATION"], "public-api");
    assert.match(echo.env["PORT"] ?? "", /^\d+$/);
    assert.equal(echo.headers["x-forwarded-proto"], "https");
    assert.equal(echo.headers["host"], new URL(publicUrl).host);
  });

  it("both URL forms of a service route to it", async () => {
    const service = rg.dataPlane.directory.byResource(`projects/${PROJECT}/locations/us-central1/services/public-api`);
    assert.equal(service?.urls.length, 2);
    for (const url of service?.urls ?? []) assert.equal((await call(url)).status, 200, url);
  });

  it("no token → 403 with Google's page; the request log says why", async () => {
    const result = await call(privateUrl, {}, "/x?a=<b>");
    assert.equal(result.status, 403);
    assert.equal(result.body, forbiddenPage("/x?a=<b>"));
    assert.match(result.body, /<code>\/x\?a=&lt;b&gt;<\/code>/);
    const logs = await requestLogs(5);
    const entry = logs[0]?.entry as { severity: string; textPayload: string; httpRequest: { status: number } };
    assert.equal(entry.httpRequest.status, 403);
    assert.equal(entry.severity, "WARNING");
    assert.match(entry.textPayload, /^The request was not authenticated\. Either allow unauthenticated invocations/);
  });

  it("bad credentials → 401", async () => {
    const good = await idToken(OWNER, privateUrl);
    const [h, p] = good.split(".");
    const expired = await rg.platform.tokens.signIdToken({
      principal: { kind: "user", email: OWNER },
      uniqueId: "1",
      audience: privateUrl,
      includeEmail: true,
      lifetimeSeconds: -10,
    });
    const hs256Header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
    const cases: Array<[string, Record<string, string | string[]>]> = [
      ["garbage", { authorization: "Bearer garbage" }],
      ["not a bearer", { authorization: `Basic ${good}` }],
      ["access token", { authorization: `Bearer ${await rg.accessTokenFor(`user:${OWNER}`)}` }],
      ["expired", { authorization: `Bearer ${expired}` }],
      ["wrong audience", { authorization: `Bearer ${await idToken(OWNER, "https://other.example")}` }],
      ["audience with a path", { authorization: `Bearer ${await idToken(OWNER, `${privateUrl}/api/v1`)}` }],
      ["alg none", { authorization: `Bearer ${Buffer.from('{"alg":"none"}').toString("base64url")}.${p}.` }],
      [
        "HS256",
        {
          authorization: `Bearer ${hs256Header}.${p}.${createHmac("sha256", "k").update(`${hs256Header}.${p}`).digest("base64url")}`,
        },
      ],
      ["truncated", { authorization: `Bearer ${good.slice(0, -5)}` }],
      ["two tokens in one header", { authorization: `Bearer ${good} ${good}` }],
      ["two authorization headers", { authorization: [`Bearer ${good}`, `Bearer ${good}`] }],
      ["oversized", { authorization: `Bearer ${"a".repeat(20_000)}.${"b".repeat(20_000)}.c` }],
      [
        "tampered",
        {
          authorization: `Bearer ${h}.${Buffer.from(JSON.stringify({ email: "x@example.com" })).toString("base64url")}.${good.split(".")[2]}`,
        },
      ],
    ];
    for (const [name, headers] of cases) {
      const result = await call(privateUrl, headers, "/p");
      assert.equal(result.status, 401, name);
      assert.equal(result.body, unauthorizedPage("/p"), name);
    }
  });

  it("a valid token without run.routes.invoke → 403; granting it → 200 on the next request", async () => {
    const token = await idToken("alice@example.com", privateUrl);
    assert.equal((await call(privateUrl, { authorization: `Bearer ${token}` })).status, 403);
    await setInvokers(rg, "private-api", ["user:alice@example.com"]);
    assert.equal((await call(privateUrl, { authorization: `Bearer ${token}` })).status, 200);
    await setInvokers(rg, "private-api", []);
    assert.equal((await call(privateUrl, { authorization: `Bearer ${token}` })).status, 403);
  });

  it("the owner (roles/owner includes run.routes.invoke) is let in, with the token's signature stripped", async () => {
    const token = await idToken(OWNER, privateUrl);
    const result = await call(privateUrl, { authorization: `Bearer ${token}` });
    assert.equal(result.status, 200);
    const echo = JSON.parse(result.body) as Echo;
    assert.equal(
      echo.headers["authorization"],
      `Bearer ${token.split(".").slice(0, 2).join(".")}.SIGNATURE_REMOVED_BY_GOOGLE`,
    );
    assert.equal(echo.env["GREETING"], "hi");
  });

  it("X-Serverless-Authorization takes precedence; Authorization then reaches the app untouched", async () => {
    const token = await idToken(OWNER, privateUrl);
    const result = await call(privateUrl, {
      "x-serverless-authorization": `Bearer ${token}`,
      authorization: "Bearer app-specific-credential",
    });
    assert.equal(result.status, 200);
    const echo = JSON.parse(result.body) as Echo;
    assert.equal(echo.headers["authorization"], "Bearer app-specific-credential");
    assert.match(echo.headers["x-serverless-authorization"] ?? "", /\.SIGNATURE_REMOVED_BY_GOOGLE$/);
    const bad = await call(privateUrl, {
      "x-serverless-authorization": "Bearer nope",
      authorization: `Bearer ${token}`,
    });
    assert.equal(bad.status, 401, "only X-Serverless-Authorization is checked when both are sent");
  });

  it("identity headers a client sends never reach the instance", async () => {
    const result = await call(publicUrl, {
      "x-goog-authenticated-user-email": "accounts.google.com:admin@example.com",
      "x-goog-iap-jwt-assertion": "forged",
      "x-serverless-authorization": "Bearer forged",
    });
    const echo = JSON.parse(result.body) as Echo;
    assert.equal(echo.headers["x-goog-authenticated-user-email"], undefined);
    assert.equal(echo.headers["x-goog-iap-jwt-assertion"], undefined);
    assert.equal(echo.headers["x-serverless-authorization"], undefined);
  });

  it("forwarding headers are Google's own: a client's X-Forwarded-For is extended, its other copies replaced", async () => {
    const result = await call(publicUrl, {
      "x-forwarded-for": "203.0.113.7",
      "x-forwarded-proto": "http",
      forwarded: "for=evil",
      connection: "keep-alive, x-hop",
      "x-hop": "dropped",
      "x-kept": ["one", "two"],
    });
    const echo = JSON.parse(result.body) as Echo;
    assert.equal(echo.headers["x-forwarded-for"], "203.0.113.7, 127.0.0.1");
    assert.equal(echo.headers["x-forwarded-proto"], "https");
    assert.equal(echo.headers["forwarded"], 'for="127.0.0.1";proto=https');
    assert.equal(echo.headers["x-hop"], undefined, "headers the Connection header lists are hop-by-hop");
    assert.equal(echo.headers["x-kept"], "one, two");
    assert.match(echo.headers["x-cloud-trace-context"] ?? "", /^[0-9a-f]{32}\/\d+;o=1$/);
  });

  it("every copy of a repeated response header reaches the client", async () => {
    const result = await call(publicUrl, {}, "/cookies");
    assert.equal(result.status, 200);
    assert.deepEqual(result.headers["set-cookie"], ["a=1", "b=2"]);
    assert.equal(result.headers["x-app"], "kept");
    assert.equal(result.body, "cookies");
  });

  it("a public service passes Authorization through untouched", async () => {
    const echo = JSON.parse((await call(publicUrl, { authorization: "Bearer firebase-token" })).body) as Echo;
    assert.equal(echo.headers["authorization"], "Bearer firebase-token");
  });

  it("a per-service loopback port serves clients that cannot set Host", async () => {
    const port = rg.dataPlane.servicePorts.portOf(`projects/${PROJECT}/locations/us-central1/services/public-api`);
    assert.ok(port);
    const echo = (await (await fetch(`http://127.0.0.1:${port}/x`)).json()) as Echo;
    assert.equal(echo.headers["host"], new URL(publicUrl).hostname);
    const privatePort = rg.dataPlane.servicePorts.portOf(
      `projects/${PROJECT}/locations/us-central1/services/private-api`,
    );
    assert.equal((await fetch(`http://127.0.0.1:${privatePort}/`)).status, 403);
    const token = await idToken(OWNER, privateUrl);
    assert.equal(
      (await fetch(`http://127.0.0.1:${privatePort}/`, { headers: { authorization: `Bearer ${token}` } })).status,
      200,
    );
  });

  it("a custom audience is accepted by exact match only", async () => {
    const [url] = (await deploy(rg, "custom-aud", {
      annotations: { "run.googleapis.com/custom-audiences": JSON.stringify(["https://api.example.com"]) },
    })) as [string];
    const exact = await idToken(OWNER, "https://api.example.com");
    assert.equal((await call(url, { authorization: `Bearer ${exact}` })).status, 200);
    const slashed = await idToken(OWNER, "https://api.example.com/");
    assert.equal((await call(url, { authorization: `Bearer ${slashed}` })).status, 401);
    const serviceUrl = await idToken(OWNER, url);
    assert.equal(
      (await call(url, { authorization: `Bearer ${serviceUrl}` })).status,
      200,
      "the run.app URL stays an accepted audience",
    );
  });

  it("unknown hosts get Google's 404", async () => {
    const result = await call("https://nope-123.us-central1.run.app");
    assert.equal(result.status, 404);
    assert.match(result.body, /Error 404 \(Not Found\)/);
  });

  it("a revision whose instances cannot start answers 500, and its stderr reaches the service log", async () => {
    const [url] = (await deploy(rg, "broken-api", { image: FAIL_IMAGE, public: true })) as [string];
    const result = await call(url);
    assert.equal(result.status, 500);
    assert.match(result.body, /Error: Server Error/);
    await new Promise((r) => setTimeout(r, 300));
    const logs = await rg.platform.store.readLogs({
      logNamePrefix: `projects/${PROJECT}/logs/run.googleapis.com%2Fstderr`,
      limit: 10,
    });
    assert.ok(logs.some((r) => r.entry["textPayload"] === "FATAL: cannot connect to the database"));
  });

  it("a crashed instance is replaced on the next request", async () => {
    const first = JSON.parse((await call(publicUrl)).body) as Echo;
    await call(publicUrl, {}, "/crash").catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    const second = JSON.parse((await call(publicUrl)).body) as Echo;
    assert.notEqual(first.instance, second.instance);
  });

  it("the request timeout answers 504 and leaves the instance serving", async () => {
    const [url] = (await deploy(rg, "slow-api", { public: true, timeoutSeconds: 1 })) as [string];
    const warm = JSON.parse((await call(url)).body) as Echo;
    const started = Date.now();
    const slow = await call(url, {}, "/?sleep=3000");
    const waited = Date.now() - started;
    assert.equal(slow.status, 504);
    assert.equal(slow.body, "upstream request timeout");
    assert.ok(waited >= 900 && waited < 2500, `answered after ${waited} ms`);
    const next = JSON.parse((await call(url)).body) as Echo;
    assert.equal(next.pid, warm.pid, "the instance goes on serving");
    assert.deepEqual(await loggedStatuses(url), [200, 504, 200]);
  });

  it("the request timeout bounds the whole answer: a download still sending is cut, the instance goes on", async () => {
    const [url] = (await deploy(rg, "slow-download", { public: true, timeoutSeconds: 1 })) as [string];
    const warm = JSON.parse((await call(url)).body) as Echo;
    const front = new URL(rg.endpoints.frontEnd);
    const started = Date.now();
    // 100 chunks 50 ms apart take 5 s; the deadline comes 1 to 2 s after the request arrived.
    const download = await new Promise<{ status: number; received: string; cut: boolean }>((resolve, reject) => {
      const req = request(
        { host: front.hostname, port: front.port, path: "/stream?chunks=100", headers: { host: new URL(url).host } },
        (res) => {
          let received = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (received += chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, received, cut: !res.complete }));
          res.on("error", () => resolve({ status: res.statusCode ?? 0, received, cut: true }));
        },
      );
      req.on("error", reject);
      req.end();
    });
    const waited = Date.now() - started;
    assert.equal(download.status, 200);
    assert.ok(download.cut, "the answer ends before it is complete");
    const chunks = download.received.split("\n").filter(Boolean).length;
    assert.ok(chunks > 5 && chunks < 100, `received ${chunks} chunks`);
    assert.ok(waited >= 900 && waited < 2600, `cut after ${waited} ms`);
    const next = JSON.parse((await call(url)).body) as Echo;
    assert.equal(next.pid, warm.pid, "the instance goes on serving");
    assert.deepEqual(
      await loggedStatuses(`${url}/stream`),
      [200],
      "logged with the status it was sent with, not as a client that hung up",
    );
  });

  it("a client that hangs up mid-download leaves the instance serving", async () => {
    const front = new URL(rg.endpoints.frontEnd);
    const streamedBy = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: front.hostname, port: front.port, path: "/stream", headers: { host: new URL(publicUrl).host } },
        (res) => {
          res.once("data", () => {
            resolve(String(res.headers["x-pid"]));
            req.destroy();
          });
        },
      );
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code !== "ECONNRESET") reject(error);
      });
      req.end();
    });
    await new Promise((r) => setTimeout(r, 300));
    const next = JSON.parse((await call(publicUrl)).body) as Echo;
    assert.equal(String(next.pid), streamedBy, "the same instance answers the next request");
  });
});

describe("stopping runguard with a request in flight", () => {
  it("cuts the request instead of waiting for an instance that never answers", async () => {
    const rg = await startTestRunguard();
    await registerTestImages(rg);
    const [url] = (await deploy(rg, "never-answers", { public: true })) as [string];
    await invokeUrl(rg.endpoints.frontEnd, url);
    const front = new URL(rg.endpoints.frontEnd);
    const inFlight = new Promise<string>((resolve) => {
      const req = request(
        { host: front.hostname, port: front.port, path: "/?sleep=120000", headers: { host: new URL(url).host } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(`answered ${res.statusCode}`));
        },
      );
      req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
      req.end();
    });
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await rg.stop();
    const took = Date.now() - started;
    assert.ok(took < 15_000, `stopped after ${took} ms`);
    assert.match(await inFlight, /answered 504|ECONNRESET|socket hang up/);
  });
});
