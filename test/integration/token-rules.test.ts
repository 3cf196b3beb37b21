// Google's token rules through real clients: OAuth scopes on access tokens (minted by the token endpoint from a
// service-account key with google-auth-library, and by IAM Credentials), and the token endpoint's rules for
// JWT-bearer assertions (lifetime, audience, subject), with assertions forged with the account's own key.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import { JWT } from "google-auth-library";
import { SignJWT } from "jose";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";

const SA = `reader@${PROJECT}.iam.gserviceaccount.com`;
const AUTH = "https://www.googleapis.com/auth/";
const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";
const SECRET = `/v1/projects/${PROJECT}/secrets/api-key`;
const BAD_TIME =
  "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";

interface KeyFile {
  client_email: string;
  private_key: string;
  private_key_id: string;
}

describe("Google's token rules", () => {
  let rg: TestRunguard;
  let key: KeyFile;
  // Google's JSON, read field by field in the assertions below.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Json = Record<string, any>;
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
  /** google-auth-library's service-account client, its fixed token URL sent to runguard's token endpoint. */
  const keyClient = (options: { scopes: string[]; subject?: string }) => {
    const client = new JWT({ email: key.client_email, key: key.private_key, keyId: key.private_key_id, ...options });
    client.transporter.interceptors.request.add({
      resolved: async (config) => {
        if (String(config.url) === GOOGLE_TOKEN_URL) config.url = new URL(`${rg.endpoints.api}/token`);
        return config;
      },
    });
    return client;
  };
  const postAssertion = async (claims: Record<string, unknown>, lifetime: { iat: number; exp?: number }) => {
    let jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: key.private_key_id })
      .setIssuedAt(lifetime.iat);
    if (lifetime.exp !== undefined) jwt = jwt.setExpirationTime(lifetime.exp);
    const assertion = await jwt.sign(createPrivateKey(key.private_key));
    const response = await fetch(`${rg.endpoints.api}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }),
    });
    return { status: response.status, json: (await response.json()) as Json };
  };
  const now = () => Math.floor(Date.now() / 1000);
  const scopeDenied = (method: string, service = "secretmanager.googleapis.com") => ({
    code: 403,
    message: "Request had insufficient authentication scopes.",
    status: "PERMISSION_DENIED",
    details: [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        domain: "googleapis.com",
        metadata: { service, method },
      },
    ],
  });
  const ACCESS = "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion";
  const withoutLegacyErrors = (error: Json) => {
    const { errors: _legacy, ...rest } = error;
    return rest;
  };

  /** Adds a project-level binding (read-modify-write, as gcloud does). */
  const grantOnProject = async (role: string, member: string) => {
    const policy = await asOwner("POST", `/v1/projects/${PROJECT}:getIamPolicy`, {});
    const bindings = [...((policy["bindings"] ?? []) as Json[]), { role, members: [member] }];
    await asOwner("POST", `/v1/projects/${PROJECT}:setIamPolicy`, { policy: { ...policy, bindings } });
  };

  before(async () => {
    rg = await startTestRunguard();
    await grantOnProject("roles/iam.serviceAccountTokenCreator", `user:${OWNER}`);
    await asOwner("POST", `/v1/projects/${PROJECT}/serviceAccounts`, { accountId: "reader" });
    const created = await asOwner("POST", `/v1/projects/${PROJECT}/serviceAccounts/${SA}/keys`, {});
    key = JSON.parse(Buffer.from(String(created["privateKeyData"]), "base64").toString()) as KeyFile;
    await asOwner("POST", `/v1/projects/${PROJECT}/secrets?secretId=api-key`, { replication: { automatic: {} } });
    await asOwner("POST", `${SECRET}:addVersion`, { payload: { data: Buffer.from("s3cret").toString("base64") } });
    await asOwner("POST", `${SECRET}:setIamPolicy`, {
      policy: { bindings: [{ role: "roles/secretmanager.secretAccessor", members: [`serviceAccount:${SA}`] }] },
    });
  });
  after(async () => rg.stop());

  describe("OAuth scopes on access tokens", () => {
    it("a key-file token with only userinfo.email cannot read a secret: Google's 403", async () => {
      const { token } = await keyClient({ scopes: [`${AUTH}userinfo.email`] }).getAccessToken();
      assert.match(token ?? "", /^ya29\./);
      const read = await api(token!, "GET", `${SECRET}/versions/latest:access`);
      assert.equal(read.status, 403);
      assert.deepEqual(withoutLegacyErrors(read.json["error"]), scopeDenied(ACCESS));
    });

    it("the same account with cloud-platform reads it", async () => {
      const { token } = await keyClient({ scopes: [`${AUTH}cloud-platform`] }).getAccessToken();
      const read = await api(token!, "GET", `${SECRET}/versions/latest:access`);
      assert.equal(read.status, 200, JSON.stringify(read.json));
      assert.equal(Buffer.from(String(read.json["payload"]["data"]), "base64").toString(), "s3cret");
    });

    it("IAM Credentials tokens carry the requested scopes, and the iam scope covers IAM Credentials only", async () => {
      const owner = await rg.accessTokenFor(`user:${OWNER}`);
      const generate = (token: string, scope: string[]) =>
        api(token, "POST", `/v1/projects/-/serviceAccounts/${SA}:generateAccessToken`, { scope });
      const narrow = await generate(owner, [`${AUTH}iam`]);
      assert.equal(narrow.status, 200, JSON.stringify(narrow.json));
      const iamOnly = String(narrow.json["accessToken"]);
      const read = await api(iamOnly, "GET", `${SECRET}/versions/latest:access`);
      assert.equal(read.status, 403);
      assert.deepEqual(withoutLegacyErrors(read.json["error"]), scopeDenied(ACCESS));
      // The account may mint tokens for itself only with a grant; the scope check passes first, then IAM decides.
      const self = await generate(iamOnly, [`${AUTH}cloud-platform`]);
      assert.equal(self.json["error"]?.["details"]?.[0]?.["reason"], "IAM_PERMISSION_DENIED");
    });

    it("cloud-platform.read-only reads a project policy but cannot set it", async () => {
      const owner = await rg.accessTokenFor(`user:${OWNER}`);
      const minted = await api(owner, "POST", `/v1/projects/-/serviceAccounts/${SA}:generateAccessToken`, {
        scope: [`${AUTH}cloud-platform.read-only`],
      });
      const readOnly = String(minted.json["accessToken"]);
      await grantOnProject("roles/resourcemanager.projectIamAdmin", `serviceAccount:${SA}`);
      const read = await api(readOnly, "POST", `/v1/projects/${PROJECT}:getIamPolicy`, {});
      assert.equal(read.status, 200, JSON.stringify(read.json));
      const write = await api(readOnly, "POST", `/v1/projects/${PROJECT}:setIamPolicy`, { policy: read.json });
      assert.equal(write.status, 403);
      assert.deepEqual(
        withoutLegacyErrors(write.json["error"]),
        scopeDenied("google.cloudresourcemanager.v1.Projects.SetIamPolicy", "cloudresourcemanager.googleapis.com"),
      );
    });
  });

  describe("JWT-bearer assertions at the token endpoint", () => {
    const base = () => ({ iss: SA, aud: GOOGLE_TOKEN_URL, scope: `${AUTH}cloud-platform` });

    it("google-auth-library with a subject the key may not act as: Google's unauthorized_client", async () => {
      const client = keyClient({ scopes: [`${AUTH}cloud-platform`], subject: "someone@example.com" });
      await assert.rejects(client.getAccessToken(), (error: Error & { response?: { status: number; data: Json } }) => {
        assert.equal(error.response?.status, 401);
        assert.equal(error.response?.data["error"], "unauthorized_client");
        return true;
      });
    });

    it("accepts a one-hour assertion whose sub is the account itself", async () => {
      const result = await postAssertion({ ...base(), sub: SA }, { iat: now(), exp: now() + 3600 });
      assert.equal(result.status, 200, JSON.stringify(result.json));
      assert.match(String(result.json["access_token"]), /^ya29\./);
    });

    const refused: Array<[string, Record<string, unknown>, { iat: number; exp?: number }, Json]> = [
      [
        "a 24-hour lifetime",
        {},
        { iat: now(), exp: now() + 24 * 3600 },
        { error: "invalid_grant", error_description: BAD_TIME },
      ],
      ["no exp", {}, { iat: now() }, { error: "invalid_grant", error_description: BAD_TIME }],
      [
        "iat an hour ahead",
        {},
        { iat: now() + 3600, exp: now() + 7000 },
        { error: "invalid_grant", error_description: BAD_TIME },
      ],
      [
        "already expired",
        {},
        { iat: now() - 7200, exp: now() - 3600 },
        { error: "invalid_grant", error_description: BAD_TIME },
      ],
      [
        "another audience",
        { aud: "https://example.com/token" },
        { iat: now(), exp: now() + 3600 },
        { error: "invalid_grant", error_description: "Invalid JWT: Failed audience check." },
      ],
      [
        "another subject",
        { sub: `user:${OWNER}` },
        { iat: now(), exp: now() + 3600 },
        {
          error: "unauthorized_client",
          error_description:
            "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
        },
      ],
      [
        "neither scope nor target_audience",
        { scope: undefined },
        { iat: now(), exp: now() + 3600 },
        { error: "invalid_scope", error_description: "Invalid OAuth scope or ID token audience provided." },
      ],
    ];
    for (const [what, claims, lifetime, expected] of refused) {
      it(`refuses an assertion with ${what}, in Google's words`, async () => {
        const merged = Object.fromEntries(Object.entries({ ...base(), ...claims }).filter(([, v]) => v !== undefined));
        const result = await postAssertion(merged, lifetime);
        assert.equal(result.status, expected["error"] === "unauthorized_client" ? 401 : 400);
        assert.deepEqual(result.json, expected);
      });
    }
  });
});
