// The per-instance metadata server as Google's auth libraries use it, unchanged: google-auth-library (Node)
// and google.auth (the Python in the Cloud SDK), in child processes pointed at it the way runguard points an
// instance (GCE_METADATA_HOST / GCE_METADATA_IP, K_SERVICE).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createMetadataServer, type MetadataServer } from "../../src/metadata/metadata-server.js";
import { createTokenService } from "../../src/tokens/token-service.js";
import { createMemoryStore } from "../../src/store/memory-store.js";
import { systemClock } from "../../src/core/clock.js";

const run = promisify(execFile);
const SA = "my-api-sa@my-gcp-project.iam.gserviceaccount.com";
const AUD = "https://my-api-123456789012.us-central1.run.app";
const tokens = createTokenService({ store: createMemoryStore(), clock: systemClock });

describe("metadata server", () => {
  let server: MetadataServer;
  let hostPort: string;
  let dir: string;
  const env = () => ({
    PATH: process.env["PATH"] ?? "",
    HOME: dir,
    K_SERVICE: "my-api",
    GCE_METADATA_HOST: hostPort,
    GCE_METADATA_IP: hostPort,
    GCE_METADATA_ROOT: hostPort,
  });
  const claimsOf = (jwt: string) =>
    JSON.parse(Buffer.from(jwt.trim().split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "rg-mds-"));
    server = createMetadataServer({
      identity: {
        serviceAccountEmail: SA,
        serviceAccountUniqueId: "104",
        projectId: "my-gcp-project",
        projectNumber: "123456789012",
        region: "us-central1",
        instanceId: "inst-1",
      },
      tokens,
      clock: systemClock,
    });
    const address = await server.listen();
    hostPort = `127.0.0.1:${address.port}`;
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves google-auth-library (Node): ID token, access token, project and account", async () => {
    const script = join(dir, "node-client.mjs");
    const library = import.meta.resolve("google-auth-library");
    writeFileSync(
      script,
      `import { GoogleAuth } from ${JSON.stringify(library)};
const auth = new GoogleAuth();
const idClient = await auth.getIdTokenClient(${JSON.stringify(AUD)});
const headers = await idClient.getRequestHeaders();
const authorization = typeof headers.get === "function" ? headers.get("authorization") : headers.Authorization ?? headers.authorization;
console.log(JSON.stringify({ idToken: authorization.replace(/^Bearer /i, ""), access: await auth.getAccessToken(), project: await auth.getProjectId(), email: (await auth.getCredentials()).client_email }));`,
    );
    const { stdout } = await run(process.execPath, [script], { env: env(), timeout: 30_000 });
    const result = JSON.parse(stdout) as { idToken: string; access: string; project: string; email: string };
    assert.equal(claimsOf(result.idToken)["email"], SA);
    assert.equal(claimsOf(result.idToken)["aud"], AUD);
    assert.equal((await tokens.verifyAccessToken(result.access))?.principal.email, SA);
    assert.equal(result.project, "my-gcp-project");
    assert.equal(result.email, SA);
  });

  it("serves google.auth (Python, from the Cloud SDK): fetch_id_token and default credentials", async () => {
    const { stdout } = await run(
      "/usr/lib/google-cloud-sdk/platform/bundledpythonunix/bin/python3",
      [
        "-c",
        `import json, google.auth, google.auth.transport.requests, google.oauth2.id_token
request = google.auth.transport.requests.Request()
token = google.oauth2.id_token.fetch_id_token(request, ${JSON.stringify(AUD)})
credentials, project = google.auth.default()
credentials.refresh(request)
print(json.dumps({"id": token, "access": credentials.token, "project": project, "email": credentials.service_account_email}))`,
      ],
      { env: { ...env(), PYTHONPATH: "/usr/lib/google-cloud-sdk/lib/third_party" }, timeout: 30_000 },
    );
    const result = JSON.parse(stdout) as { id: string; access: string; project: string; email: string };
    assert.equal(claimsOf(result.id)["email"], SA);
    assert.equal((await tokens.verifyAccessToken(result.access))?.principal.email, SA);
    assert.equal(result.project, "my-gcp-project");
    assert.equal(result.email, SA);
  });

  it("answers only requests with Metadata-Flavor, only for its own account, and says so in its headers", async () => {
    const base = `http://${hostPort}/computeMetadata/v1`;
    const get = (path: string, headers: Record<string, string> = { "metadata-flavor": "Google" }, method = "GET") =>
      fetch(`${base}${path}`, { headers, method });
    const cases: Array<[string, Promise<Response>, number]> = [
      ["no Metadata-Flavor", get("/project/project-id", {}), 403],
      [
        "proxied request",
        get("/project/project-id", { "metadata-flavor": "Google", "x-forwarded-for": "1.2.3.4" }),
        403,
      ],
      ["another account", get("/instance/service-accounts/other@p.iam.gserviceaccount.com/token"), 404],
      ["unknown path", get("/instance/nothing"), 404],
      ["identity without audience", get("/instance/service-accounts/default/identity"), 400],
      ["POST", get("/project/project-id", { "metadata-flavor": "Google" }, "POST"), 405],
      ["region", get("/instance/region"), 200],
    ];
    for (const [name, pending, status] of cases) {
      const response = await pending;
      assert.equal(response.status, status, name);
      assert.equal(response.headers.get("metadata-flavor"), "Google", name);
    }
    assert.equal(await (await get("/instance/region")).text(), "projects/123456789012/regions/us-central1");
    const recursive = await get("/instance/service-accounts/default/?recursive=true");
    assert.equal(recursive.headers.get("content-type"), "application/json");
    assert.deepEqual(await recursive.json(), {
      aliases: ["default"],
      email: SA,
      scopes: ["https://www.googleapis.com/auth/cloud-platform"],
    });
  });
});
