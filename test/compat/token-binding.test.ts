// Tokens stay bound to the account and API they were made for, checked through REST as clients call it:
// - a service account's access token stops working when the account is deleted, and does not come back as the
//   account recreated under the same email (Google revokes a deleted account's access tokens: 401);
// - its ID token stays signed and unexpired, as on Google, but IAM grants nothing to the deleted principal, so
//   Cloud Run's front end refuses it (403) even once a new account with the same email holds run.invoker;
// - a self-signed JWT for one Google API (aud https://secretmanager.googleapis.com/) is not accepted by
//   runguard's own routes, whatever Host the client addressed.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { SignJWT, importPKCS8 } from "jose";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { ECHO_IMAGE, deploy, registerTestImages } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";

// Google's JSON, read field by field in the assertions below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const SECRETS = `/v1/projects/${PROJECT}/secrets`;

describe("tokens bound to their account and API", () => {
  let rg: TestRunguard;
  let ownerToken: string;

  /** One REST call with the Host header really sent (fetch drops it). */
  const call = (method: string, path: string, options: { host: string; token: string; body?: unknown }) =>
    new Promise<{ status: number; json: Json }>((resolve, reject) => {
      const api = new URL(rg.endpoints.api);
      const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
      const req = request(
        {
          host: api.hostname,
          port: api.port,
          method,
          path,
          headers: {
            host: options.host,
            authorization: `Bearer ${options.token}`,
            ...(payload === undefined ? {} : { "content-type": "application/json" }),
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Json) : {} }));
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  const asOwner = async (method: string, path: string, host: string, body?: unknown) => {
    const result = await call(method, path, { host, token: ownerToken, body });
    assert.equal(result.status, 200, `${method} ${path}: ${JSON.stringify(result.json)}`);
    return result.json;
  };
  // Each test its own account, so that one failing leaves the others' alone.
  let accountId = "";
  let EMAIL = "";
  let SA_PATH = "";
  const useAccount = (id: string) => {
    accountId = id;
    EMAIL = `${id}@${PROJECT}.iam.gserviceaccount.com`;
    SA_PATH = `/v1/projects/${PROJECT}/serviceAccounts/${EMAIL}`;
  };
  const createAccount = async () =>
    (await asOwner("POST", `/v1/projects/${PROJECT}/serviceAccounts`, "iam.googleapis.com", { accountId }))[
      "uniqueId"
    ] as string;
  const deleteAccount = () => asOwner("DELETE", SA_PATH, "iam.googleapis.com");
  const grant = async (role: string, member: string) => {
    const host = "cloudresourcemanager.googleapis.com";
    const policy = await asOwner("POST", `/v1/projects/${PROJECT}:getIamPolicy`, host, {});
    policy["bindings"] = [...(policy["bindings"] ?? []), { role, members: [member] }];
    await asOwner("POST", `/v1/projects/${PROJECT}:setIamPolicy`, host, { policy });
  };
  const accessToken = async () =>
    (
      await asOwner(
        "POST",
        `/v1/projects/-/serviceAccounts/${EMAIL}:generateAccessToken`,
        "iamcredentials.googleapis.com",
        {
          scope: ["https://www.googleapis.com/auth/cloud-platform"],
        },
      )
    )["accessToken"] as string;
  const idToken = async (audience: string) =>
    (
      await asOwner(
        "POST",
        `/v1/projects/-/serviceAccounts/${EMAIL}:generateIdToken`,
        "iamcredentials.googleapis.com",
        {
          audience,
          includeEmail: true,
        },
      )
    )["token"] as string;
  const listSecrets = (token: string) => call("GET", SECRETS, { host: "secretmanager.googleapis.com", token });

  before(async () => {
    rg = await startTestRunguard();
    ownerToken = await rg.accessTokenFor(`user:${OWNER}`);
    await registerTestImages(rg);
    // As on Google, an owner mints a service account's tokens only with Token Creator.
    await grant("roles/iam.serviceAccountTokenCreator", `user:${OWNER}`);
  });
  after(async () => rg?.stop());

  it("a deleted service account's access token is 401, and stays 401 once the email is taken again", async () => {
    useAccount("short-lived-at");
    await createAccount();
    await grant("roles/secretmanager.viewer", `serviceAccount:${EMAIL}`);
    const old = await accessToken();
    assert.equal((await listSecrets(old)).status, 200, "the token works while its account exists");
    await deleteAccount();
    const deleted = await listSecrets(old);
    assert.equal(deleted.status, 401, JSON.stringify(deleted.json));
    assert.equal(deleted.json["error"]?.["status"], "UNAUTHENTICATED");

    const newId = await createAccount();
    await grant("roles/secretmanager.viewer", `serviceAccount:${EMAIL}`);
    const fresh = await accessToken();
    assert.equal((await listSecrets(fresh)).status, 200, `the new account ${newId}'s own token works`);
    const recreated = await listSecrets(old);
    assert.equal(recreated.status, 401, "the old token does not act as the new account with the same email");
    await deleteAccount();
  });

  it("a deleted service account's ID token is refused by Cloud Run's front end (403), also after recreation", async () => {
    useAccount("short-lived-id");
    await createAccount();
    const [url] = await deploy(rg, "private-echo", { image: ECHO_IMAGE });
    assert.ok(url);
    await grant("roles/run.invoker", `serviceAccount:${EMAIL}`);
    const old = await idToken(url);
    const invoke = (token: string) =>
      invokeUrl(rg.endpoints.frontEnd, url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await invoke(old)).status, 200, "the account may invoke");
    await deleteAccount();
    assert.equal((await invoke(old)).status, 403, "its binding now names a deleted member");
    await createAccount();
    await grant("roles/run.invoker", `serviceAccount:${EMAIL}`);
    assert.equal((await invoke(await idToken(url))).status, 200, "the new account's own ID token works");
    assert.equal((await invoke(old)).status, 403, "the deleted account's ID token does not act as the new account");
    await deleteAccount();
  });

  it("a self-signed JWT for Secret Manager works there and is 401 at runguard's own routes", async () => {
    useAccount("key-holder");
    await createAccount();
    await grant("roles/secretmanager.viewer", `serviceAccount:${EMAIL}`);
    const created = await asOwner("POST", `${SA_PATH}/keys`, "iam.googleapis.com", {});
    const key = JSON.parse(Buffer.from(String(created["privateKeyData"]), "base64").toString()) as Json;
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ iss: EMAIL, sub: EMAIL, aud: "https://secretmanager.googleapis.com/" })
      .setProtectedHeader({ alg: "RS256", kid: String(key["private_key_id"]), typ: "JWT" })
      .setIssuedAt(now - 10)
      .setExpirationTime(now + 600)
      .sign(await importPKCS8(String(key["private_key"]), "RS256"));
    assert.equal((await listSecrets(jwt)).status, 200, "accepted by the API it names");
    for (const host of ["secretmanager.googleapis.com", new URL(rg.endpoints.api).host]) {
      const admin = await call("GET", "/runguard/v1/groups", { host, token: jwt });
      assert.equal(admin.status, 401, `Host ${host}: ${JSON.stringify(admin.json)}`);
    }
    const logging = await call("POST", "/v2/entries:list", {
      host: "logging.googleapis.com",
      token: jwt,
      body: { resourceNames: [`projects/${PROJECT}`] },
    });
    assert.equal(logging.status, 401, "nor by another Google API");
    await deleteAccount();
  });
});
