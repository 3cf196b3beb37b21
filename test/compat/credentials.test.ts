// Every credential Google's libraries use, through the real libraries with their defaults: google-auth-library's
// self-signed JWTs from a service-account key file (GoogleAuth as a GAPIC client sets it up, and JWT with
// useJWTAccessWithScope), its UserRefreshClient (authorized_user ADC) and Impersonated credentials, and Python
// google.auth (service_account with always_use_jwt_access, google.auth.jwt.Credentials) calling Secret Manager
// REST. Until runguard answers CONNECT for Google hosts, the clients reach runguard at its loopback address; only
// that address differs from what they use against Google, never what they sign or send.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { request } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { GoogleAuth, Impersonated, JWT, UserRefreshClient } from "google-auth-library";
import { SignJWT } from "jose";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";

const APP = `app-runner@${PROJECT}.iam.gserviceaccount.com`;
const TARGET = `target-sa@${PROJECT}.iam.gserviceaccount.com`;
const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";
const SECRET = `/v1/projects/${PROJECT}/secrets/api-key`;
const ACCESS = `${SECRET}/versions/latest:access`;
const SDK_PYTHON_PATH = "/usr/lib/google-cloud-sdk/lib/third_party";
const INVALID_CREDENTIALS =
  "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";

interface KeyFile {
  client_email: string;
  private_key: string;
  private_key_id: string;
  token_uri: string;
}
// Google's JSON, read field by field in the assertions below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const secretValue = (body: Json) => Buffer.from(String(body["payload"]["data"]), "base64").toString();

describe("Google's credentials through the real libraries", () => {
  let rg: TestRunguard;
  let dir: string;
  let keyFile: string;
  let key: KeyFile;
  const api = async (token: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${rg.endpoints.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as Json };
  };
  const asOwner = async (method: string, path: string, body?: unknown) => {
    const result = await api(await rg.accessTokenFor(`user:${OWNER}`), method, path, body);
    assert.equal(result.status, 200, JSON.stringify(result.json));
    return result.json;
  };
  const createKey = async (email: string) => {
    const created = await asOwner("POST", `/v1/projects/${PROJECT}/serviceAccounts/${email}/keys`, {});
    return JSON.parse(Buffer.from(String(created["privateKeyData"]), "base64").toString()) as KeyFile;
  };
  const now = () => Math.floor(Date.now() / 1000);

  before(async () => {
    rg = await startTestRunguard();
    dir = mkdtempSync(join(tmpdir(), "runguard-credentials-"));
    for (const accountId of ["app-runner", "target-sa"])
      await asOwner("POST", `/v1/projects/${PROJECT}/serviceAccounts`, { accountId });
    key = await createKey(APP);
    keyFile = join(dir, "key.json");
    writeFileSync(keyFile, JSON.stringify(key), { mode: 0o600 });
    await asOwner("POST", `/v1/projects/${PROJECT}/secrets?secretId=api-key`, { replication: { automatic: {} } });
    await asOwner("POST", `${SECRET}:addVersion`, { payload: { data: Buffer.from("s3cret").toString("base64") } });
    await asOwner("POST", `${SECRET}:setIamPolicy`, {
      policy: {
        bindings: [
          {
            role: "roles/secretmanager.secretAccessor",
            members: [`serviceAccount:${APP}`, `serviceAccount:${TARGET}`, `user:${OWNER}`],
          },
        ],
      },
    });
  });
  after(async () => {
    await rg.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a runguard-issued key file names Google's token URL", () => {
    assert.equal(key.token_uri, "https://oauth2.googleapis.com/token");
  });

  describe("key assertions at the token endpoint", () => {
    /** POSTs a form to runguard as to an HTTP proxy, in absolute form, the way gcloud reaches oauth2.googleapis.com. */
    const postViaProxy = (url: string, form: Record<string, string>) =>
      new Promise<{ status: number; json: Json }>((resolve, reject) => {
        const proxy = new URL(rg.endpoints.api);
        const body = new URLSearchParams(form).toString();
        const req = request(
          {
            host: proxy.hostname,
            port: proxy.port,
            method: "POST",
            path: url,
            headers: { host: new URL(url).host, "content-type": "application/x-www-form-urlencoded" },
          },
          (res) => {
            let text = "";
            res.on("data", (chunk: Buffer) => (text += chunk.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Json }));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    const assertion = (kid: string | undefined, signer = createPrivateKey(key.private_key)) =>
      new SignJWT({ iss: APP, scope: CLOUD_PLATFORM, aud: "https://oauth2.googleapis.com/token" })
        .setProtectedHeader({ alg: "RS256", typ: "JWT", ...(kid ? { kid } : {}) })
        .setIssuedAt()
        .setExpirationTime("1h")
        .sign(signer);
    const grant = async (signed: string) =>
      postViaProxy("http://oauth2.googleapis.com/token", {
        grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion: signed,
      });

    it("an assertion without kid, at oauth2.googleapis.com/token, is verified with the keys of its iss", async () => {
      const result = await grant(await assertion(undefined));
      assert.equal(result.status, 200, JSON.stringify(result.json));
      const verified = await rg.platform.tokens.verifyAccessToken(String(result.json["access_token"]));
      assert.equal(verified?.principal.email, APP);
    });

    it("google-auth-library's JWT client (no kid) gets a token from the key file", async () => {
      const client = new JWT({ email: key.client_email, key: key.private_key, scopes: [CLOUD_PLATFORM] });
      client.transporter.interceptors.request.add({
        resolved: async (config) => {
          if (String(config.url) === key.token_uri) config.url = new URL(`${rg.endpoints.api}/token`);
          return config;
        },
      });
      const response = await client.request<Json>({ url: `${rg.endpoints.api}${ACCESS}` });
      assert.equal(secretValue(response.data), "s3cret");
    });

    it("a kid naming no key, or another key's signature: Google's invalid_grant", async () => {
      const stale = await grant(await assertion("0".repeat(40)));
      assert.equal(stale.status, 200, "a kid that names no key falls back to the account's keys");
      const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
      for (const kid of [key.private_key_id, undefined]) {
        const forged = await grant(await assertion(kid, stranger));
        assert.equal(forged.status, 400);
        assert.deepEqual(forged.json, { error: "invalid_grant", error_description: "Invalid JWT Signature." });
      }
    });
  });

  describe("self-signed JWTs from a key file", () => {
    it("GoogleAuth({ keyFile }) set up as a GAPIC client does (aud https://secretmanager.googleapis.com/)", async () => {
      const auth = new GoogleAuth({ keyFile });
      // What @google-cloud/secret-manager sets on its GoogleAuth (see its client constructor).
      auth.defaultServicePath = "secretmanager.googleapis.com";
      const client = await auth.getClient();
      assert.ok(client instanceof JWT);
      const response = await client.request<Json>({ url: `${rg.endpoints.api}${ACCESS}` });
      assert.equal(secretValue(response.data), "s3cret");
      const sent = String(response.config.headers.get("authorization")).replace(/^Bearer /, "");
      const claims = JSON.parse(Buffer.from(sent.split(".")[1] ?? "", "base64url").toString()) as Json;
      assert.equal(claims["aud"], "https://secretmanager.googleapis.com/");
      assert.equal(claims["iss"], APP);
      assert.ok(!sent.startsWith("ya29."), "a self-signed JWT, not an access token");
    });

    it("JWT with useJWTAccessWithScope sends a scope claim and no aud", async () => {
      const client = new JWT({ email: key.client_email, key: key.private_key, scopes: [CLOUD_PLATFORM] });
      client.useJWTAccessWithScope = true;
      const response = await client.request<Json>({ url: `${rg.endpoints.api}${ACCESS}` });
      assert.equal(secretValue(response.data), "s3cret");
      const sent = String(response.config.headers.get("authorization")).replace(/^Bearer /, "");
      const claims = JSON.parse(Buffer.from(sent.split(".")[1] ?? "", "base64url").toString()) as Json;
      assert.equal(claims["scope"], CLOUD_PLATFORM);
      assert.equal(claims["aud"], undefined);
    });

    it("a scope claim without cloud-platform gets Google's 403 for insufficient scopes", async () => {
      const client = new JWT({
        email: key.client_email,
        key: key.private_key,
        scopes: ["https://www.googleapis.com/auth/userinfo.email"],
      });
      client.useJWTAccessWithScope = true;
      const headers = await client.getRequestHeaders(`${rg.endpoints.api}${ACCESS}`);
      const result = await api(String(headers.get("authorization")).replace(/^Bearer /, ""), "GET", ACCESS);
      assert.equal(result.status, 403);
      assert.equal(result.json["error"]["message"], "Request had insufficient authentication scopes.");
    });

    describe("forged or misused ones get Google's 401", () => {
      const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
      const forge = (claims: Json, signer = createPrivateKey(key.private_key), kid: string | undefined = undefined) =>
        new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT", ...(kid ? { kid } : {}) }).sign(signer);
      const good = () => ({
        iss: APP,
        sub: APP,
        aud: "https://secretmanager.googleapis.com/",
        iat: now(),
        exp: now() + 3600,
      });
      const cases: [string, () => Promise<string>][] = [
        ["signed by another key with the key's kid", () => forge(good(), stranger, key.private_key_id)],
        ["signed by another key without a kid", () => forge(good(), stranger)],
        ["aud another API", () => forge({ ...good(), aud: "https://run.googleapis.com/" })],
        ["aud runguard's own address", () => forge({ ...good(), aud: `${rg.endpoints.api}/` })],
        ["expired", () => forge({ ...good(), iat: now() - 7200, exp: now() - 3600 })],
        ["a lifetime over an hour", () => forge({ ...good(), exp: now() + 7200 })],
        [
          "alg none",
          async () => {
            const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
            return `${b64({ alg: "none", typ: "JWT" })}.${b64(good())}.`;
          },
        ],
      ];
      for (const [what, token] of cases) {
        it(what, async () => {
          const result = await api(await token(), "GET", ACCESS);
          assert.equal(result.status, 401);
          assert.equal(result.json["error"]["status"], "UNAUTHENTICATED");
          assert.equal(result.json["error"]["message"], INVALID_CREDENTIALS);
        });
      }

      it("a deleted key, or a disabled account, stops its self-signed JWTs at once", async () => {
        const second = await createKey(APP);
        const token = await forge(good(), createPrivateKey(second.private_key), second.private_key_id);
        assert.equal((await api(token, "GET", ACCESS)).status, 200);
        const account = `/v1/projects/${PROJECT}/serviceAccounts/${APP}`;
        await asOwner("POST", `${account}:disable`, {});
        assert.equal((await api(token, "GET", ACCESS)).status, 401);
        await asOwner("POST", `${account}:enable`, {});
        assert.equal((await api(token, "GET", ACCESS)).status, 200);
        await asOwner("DELETE", `${account}/keys/${second.private_key_id}`);
        assert.equal((await api(token, "GET", ACCESS)).status, 401);
      });
    });
  });

  describe("authorized_user (UserRefreshClient)", () => {
    const userClient = (refreshToken: string) =>
      new UserRefreshClient({
        clientId: "runguard-env",
        clientSecret: "runguard-env",
        refreshToken,
        endpoints: { oauth2TokenUrl: `${rg.endpoints.api}/token` },
      });

    it("refreshes with the form google-auth-library sends and reads the secret", async () => {
      const client = userClient(await rg.accessTokenFor(`user:${OWNER}`));
      const response = await client.request<Json>({ url: `${rg.endpoints.api}${ACCESS}` });
      assert.equal(secretValue(response.data), "s3cret");
    });

    it("an expired or unknown refresh token: Google's invalid_grant", async () => {
      const client = userClient("ya29.not-a-token");
      await assert.rejects(client.getAccessToken(), (error: Json) => {
        assert.equal(error["response"]?.data?.error, "invalid_grant");
        assert.equal(error["response"]?.data?.error_description, "Token has been expired or revoked.");
        return true;
      });
    });
  });

  describe("impersonated_service_account (Impersonated)", () => {
    const impersonate = async (delegates: string[] = []) =>
      new Impersonated({
        sourceClient: new UserRefreshClient({
          clientId: "runguard-env",
          clientSecret: "runguard-env",
          refreshToken: await rg.accessTokenFor(`user:alice@example.com`),
          endpoints: { oauth2TokenUrl: `${rg.endpoints.api}/token` },
        }),
        targetPrincipal: TARGET,
        targetScopes: [CLOUD_PLATFORM],
        lifetime: 600,
        delegates,
        endpoint: rg.endpoints.api,
      });

    it("without iam.serviceAccounts.getAccessToken: Google's PERMISSION_DENIED", async () => {
      const client = await impersonate();
      await assert.rejects(client.getAccessToken(), (error: Json) => {
        const { errors: _legacy, ...google } = error["response"]?.data?.error as Json;
        assert.deepEqual(google, {
          code: 403,
          message: "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
          status: "PERMISSION_DENIED",
          details: [
            {
              "@type": "type.googleapis.com/google.rpc.ErrorInfo",
              reason: "IAM_PERMISSION_DENIED",
              domain: "iam.googleapis.com",
              metadata: { permission: "iam.serviceAccounts.getAccessToken" },
            },
          ],
        });
        return true;
      });
    });

    it("with roles/iam.serviceAccountTokenCreator on the target: a token for the target", async () => {
      const policy = await asOwner("POST", `/v1/projects/${PROJECT}/serviceAccounts/${TARGET}:getIamPolicy`, {});
      await asOwner("POST", `/v1/projects/${PROJECT}/serviceAccounts/${TARGET}:setIamPolicy`, {
        policy: {
          ...policy,
          bindings: [{ role: "roles/iam.serviceAccountTokenCreator", members: ["user:alice@example.com"] }],
        },
      });
      const client = await impersonate();
      const response = await client.request<Json>({ url: `${rg.endpoints.api}${ACCESS}` });
      assert.equal(secretValue(response.data), "s3cret");
      const { token } = await client.getAccessToken();
      const verified = await rg.platform.tokens.verifyAccessToken(String(token));
      assert.equal(verified?.principal.email, TARGET);
      assert.deepEqual(verified?.scopes, [CLOUD_PLATFORM]);
      const lifetime = (verified?.expiresAtMs ?? 0) - Date.now();
      assert.ok(lifetime > 500_000 && lifetime <= 600_000, `lifetime ${lifetime}`);
    });
  });

  describe("impersonation through a delegation chain (delegates)", () => {
    const DELEGATE = `projects/-/serviceAccounts/${APP}`;
    const grantTokenCreator = async (email: string, members: string[]) => {
      const resource = `/v1/projects/${PROJECT}/serviceAccounts/${email}`;
      const policy = await asOwner("POST", `${resource}:getIamPolicy`, {});
      await asOwner("POST", `${resource}:setIamPolicy`, {
        policy: { ...policy, bindings: [{ role: "roles/iam.serviceAccountTokenCreator", members }] },
      });
    };
    const generate = async (delegates: unknown[]) =>
      api(
        await rg.accessTokenFor("user:bob@example.com"),
        "POST",
        `/v1/projects/-/serviceAccounts/${TARGET}:generateAccessToken`,
        { delegates, scope: [CLOUD_PLATFORM], lifetime: "300s" },
      );

    it("needs the permission at every step: caller on the first delegate, each delegate on the next", async () => {
      const denied = await generate([DELEGATE]);
      assert.equal(denied.status, 403);
      assert.equal(
        denied.json["error"]["message"],
        "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
      );
      await grantTokenCreator(APP, ["user:bob@example.com"]);
      assert.equal((await generate([DELEGATE])).status, 403, "the delegate may not yet act as the target");
      await grantTokenCreator(TARGET, ["user:alice@example.com", `serviceAccount:${APP}`]);
      const granted = await generate([DELEGATE]);
      assert.equal(granted.status, 200, JSON.stringify(granted.json));
      const verified = await rg.platform.tokens.verifyAccessToken(String(granted.json["accessToken"]));
      assert.equal(verified?.principal.email, TARGET);
      // Bob holds nothing on the target itself: without the chain he is denied.
      assert.equal((await generate([])).status, 403);
    });

    it("a malformed delegate is INVALID_ARGUMENT", async () => {
      const result = await generate([APP]);
      assert.equal(result.status, 400);
      assert.equal(result.json["error"]["status"], "INVALID_ARGUMENT");
    });
  });

  describe("Python google.auth", () => {
    const python = (script: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          "/usr/bin/python3",
          ["-c", script],
          {
            env: {
              PATH: process.env["PATH"] ?? "/usr/bin:/bin",
              PYTHONPATH: SDK_PYTHON_PATH,
              KEY_FILE: keyFile,
              URL: `${rg.endpoints.api}${ACCESS}`,
              NO_PROXY: "*",
            },
            timeout: 60_000,
          },
          (error, stdout, stderr) =>
            resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
        );
      });

    it("service_account.Credentials with always_use_jwt_access and AuthorizedSession reads the secret", async () => {
      const result = await python(`
import base64, os
from google.oauth2 import service_account
from google.auth.transport.requests import AuthorizedSession
creds = service_account.Credentials.from_service_account_file(
    os.environ["KEY_FILE"], scopes=["${CLOUD_PLATFORM}"], always_use_jwt_access=True)
response = AuthorizedSession(creds).get(os.environ["URL"])
print(response.status_code, base64.b64decode(response.json()["payload"]["data"]).decode())
`);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), "200 s3cret");
    });

    it("without scopes, AuthorizedSession's default_host makes the aud (https://secretmanager.googleapis.com/)", async () => {
      const result = await python(`
import base64, json, os
from google.oauth2 import service_account
from google.auth.transport.requests import AuthorizedSession
creds = service_account.Credentials.from_service_account_file(os.environ["KEY_FILE"], always_use_jwt_access=True)
session = AuthorizedSession(creds, default_host="secretmanager.googleapis.com")
response = session.get(os.environ["URL"])
claims = json.loads(base64.urlsafe_b64decode(creds.token.split(".")[1] + "=="))
print(response.status_code, claims["aud"])
`);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), "200 https://secretmanager.googleapis.com/");
    });

    it("google.auth.jwt.Credentials with aud the API reads it; with aud another API gets 401", async () => {
      const result = await python(`
import os
from google.auth import jwt
from google.auth.transport.requests import AuthorizedSession
for audience in ["https://secretmanager.googleapis.com/", "https://run.googleapis.com/"]:
    creds = jwt.Credentials.from_service_account_file(os.environ["KEY_FILE"], audience=audience)
    response = AuthorizedSession(creds).get(os.environ["URL"])
    print(response.status_code, response.json().get("error", {}).get("status", "-"))
`);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(result.stdout.trim().split("\n"), ["200 -", "401 UNAUTHENTICATED"]);
    });
  });
});
