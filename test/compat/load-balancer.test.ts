// The external Application Load Balancer built the way Google's guides build it, with the real gcloud: serverless
// NEGs, backend services, a URL map with a path matcher, a Google-managed certificate, target HTTPS/HTTP proxies
// and forwarding rules. Requests are routed by host and path, over HTTPS with a certificate from runguard's CA.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { request as httpsRequest } from "node:https";
import { readFileSync } from "node:fs";
import { gcloud } from "../helpers/gcloud.js";
import { startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { ECHO_IMAGE, registerTestImages } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";

const R = "--region=us-central1";
const SITE = "site.example.test";

describe("load balancer: URL maps, proxies, forwarding rules", () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  const g = async (args: string[]) => {
    const result = await gcloud(env, args);
    assert.equal(result.code, 0, `${args.join(" ")}\n${result.stderr}`);
    return result;
  };
  const overHttps = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const lb = new URL(rg.endpoints.loadBalancerHttps);
      const req = httpsRequest(
        {
          host: lb.hostname,
          port: lb.port,
          path,
          servername: SITE,
          headers: { host: SITE },
          ca: readFileSync(rg.endpoints.caCertificatePath),
        },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.end();
    });
  const servedBy = (body: string) => (JSON.parse(body) as { env: { K_SERVICE: string } }).env.K_SERVICE;

  before(async () => {
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
    await registerTestImages(rg);
    for (const name of ["web", "api"]) {
      await g([
        "run",
        "deploy",
        name,
        `--image=${ECHO_IMAGE}`,
        R,
        "--allow-unauthenticated",
        "--ingress=internal-and-cloud-load-balancing",
      ]);
      await g([
        "compute",
        "network-endpoint-groups",
        "create",
        `${name}-neg`,
        R,
        "--network-endpoint-type=serverless",
        `--cloud-run-service=${name}`,
      ]);
      await g(["compute", "backend-services", "create", `${name}-backend`, "--global"]);
      await g([
        "compute",
        "backend-services",
        "add-backend",
        `${name}-backend`,
        "--global",
        `--network-endpoint-group=${name}-neg`,
        "--network-endpoint-group-region=us-central1",
      ]);
    }
  });
  after(async () => rg.stop());

  it("builds the chain with gcloud and routes by host and path over HTTPS", async () => {
    await g(["compute", "url-maps", "create", "site-map", "--default-service=web-backend"]);
    await g([
      "compute",
      "url-maps",
      "add-path-matcher",
      "site-map",
      "--path-matcher-name=site",
      "--default-service=web-backend",
      `--new-hosts=${SITE}`,
      "--path-rules=/api/*=api-backend",
    ]);
    const cert = await g(["compute", "ssl-certificates", "create", "site-cert", `--domains=${SITE}`, "--global"]);
    assert.match(cert.stdout, /ACTIVE/);
    await g([
      "compute",
      "target-https-proxies",
      "create",
      "site-proxy",
      "--url-map=site-map",
      "--ssl-certificates=site-cert",
    ]);
    assert.equal((await overHttps("/")).status, 404, "no forwarding rule yet: nothing listens for the map");
    const createRule = [
      "compute",
      "forwarding-rules",
      "create",
      "site-rule",
      "--global",
      "--target-https-proxy=site-proxy",
      "--ports=443",
      "--address=site-ip",
    ];
    const missing = await gcloud(env, createRule);
    assert.notEqual(missing.code, 0, "an address that was never reserved");
    assert.match(missing.stderr, /global\/addresses\/site-ip' was not found/);
    await g(["compute", "addresses", "create", "site-ip", "--global"]);
    const reserved = await g(["compute", "addresses", "describe", "site-ip", "--global", "--format=value(address)"]);
    assert.equal(reserved.stdout.trim(), "127.0.0.1");
    await g([...createRule, "--load-balancing-scheme=EXTERNAL_MANAGED"]);
    const home = await overHttps("/");
    assert.equal(home.status, 200, home.body);
    assert.equal(servedBy(home.body), "web");
    const api = await overHttps("/api/orders");
    assert.equal(servedBy(api.body), "api");
    const listed = await g(["compute", "url-maps", "list", "--format=value(name)"]);
    assert.equal(listed.stdout.trim(), "site-map");
  });

  it("serves plain HTTP only once a target HTTP proxy and its forwarding rule exist", async () => {
    const viaHttp = () => invokeUrl(rg.dataPlane.loadBalancerUrl, `http://${SITE}`, { path: "/api/x" });
    assert.equal((await viaHttp()).status, 404);
    await g(["compute", "target-http-proxies", "create", "site-http", "--url-map=site-map"]);
    await g([
      "compute",
      "forwarding-rules",
      "create",
      "site-http-rule",
      "--global",
      "--target-http-proxy=site-http",
      "--ports=80",
    ]);
    const answered = await viaHttp();
    assert.equal(answered.status, 200);
    assert.equal(servedBy(answered.body), "api");
  });

  it("refuses to delete a URL map in use, as Compute does", async () => {
    const refused = await gcloud(env, ["compute", "url-maps", "delete", "site-map", "--quiet"]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /already being used by/);
  });

  it("IAP on a backend behind the URL map signs users in on the certificate's domain", async () => {
    await g(["compute", "backend-services", "update", "api-backend", "--global", "--iap=enabled"]);
    const redirected = await overHttps("/api/x");
    assert.equal(redirected.status, 302);
    assert.equal((await overHttps("/")).status, 200, "the web backend has no IAP");
    const lb = new URL(rg.endpoints.loadBalancerHttps);
    const head = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: lb.hostname,
          port: lb.port,
          path: "/api/x",
          servername: SITE,
          headers: { host: SITE },
          ca: readFileSync(rg.endpoints.caCertificatePath),
        },
        (res) => {
          res.resume();
          resolve(String(res.headers.location));
        },
      );
      req.on("error", reject);
      req.end();
    });
    const signIn = await fetch(head);
    assert.equal(signIn.status, 200, "the sign-in page accepts the certificate's domain as a callback host");
    assert.equal(new URL(head).searchParams.get("redirect_uri"), `https://${SITE}/_gcp_gatekeeper/authenticate`);
  });
});
