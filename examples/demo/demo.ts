// The demo `runguard up --demo` runs: real services behind the real front end, called the way clients call
// Cloud Run; each outcome is checked against what Cloud Run would answer.
import { existsSync } from "node:fs";
import { request } from "node:http";
import { randomBytes } from "node:crypto";
import { setUserPassword } from "../../src/accounts/user-passwords.js";
import { signInThroughIap } from "./demo-browser.js";
import { fileURLToPath } from "node:url";
import type { Runguard } from "../../src/app/runguard.js";
import { ensureUser } from "../../src/accounts/users.js";
import { mintAccessToken } from "../../src/app/local-credentials.js";
import { addImage, HELLO_IMAGE } from "../../src/run/images.js";

const SDK_PYTHON = "/usr/lib/google-cloud-sdk/platform/bundledpythonunix/bin/python3";
const examples = (dir: string) => fileURLToPath(new URL(`../../../examples/${dir}/`, import.meta.url));

interface Outcome {
  status: number;
  body: string;
}

function callService(
  frontEnd: string,
  serviceUrl: string,
  path = "/",
  headers: Record<string, string> = {},
): Promise<Outcome> {
  const front = new URL(frontEnd);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: front.hostname, port: front.port, path, headers: { host: new URL(serviceUrl).host, ...headers } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function createDemo(rg: Runguard) {
  const { config } = rg.platform;
  const project = config.projectId;
  const api = async (method: string, path: string, body?: unknown): Promise<Outcome> => {
    const token = await mintAccessToken(rg.platform, { kind: "user", email: config.ownerEmail });
    const response = await fetch(`${rg.endpoints.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.text() };
  };
  const deploy = async (
    name: string,
    container: Record<string, unknown>,
    serviceAccount?: string,
  ): Promise<Outcome & { url: string }> => {
    const body = {
      apiVersion: "serving.knative.dev/v1",
      kind: "Service",
      metadata: { name },
      spec: {
        template: {
          spec: { ...(serviceAccount ? { serviceAccountName: serviceAccount } : {}), containers: [container] },
        },
      },
    };
    const base = `/apis/serving.knative.dev/v1/namespaces/${project}/services`;
    const exists = await rg.platform.store.get(
      "service",
      `projects/${project}/locations/${config.region}/services/${name}`,
    );
    const result = exists ? await api("PUT", `${base}/${name}`, body) : await api("POST", base, body);
    const urls =
      result.status === 200
        ? (JSON.parse(
            (JSON.parse(result.body) as { metadata: { annotations: Record<string, string> } }).metadata.annotations[
              "run.googleapis.com/urls"
            ] ?? "[]",
          ) as string[])
        : [];
    return { ...result, url: urls[0] ?? "" };
  };
  const grant = (resource: string, role: string, member: string) =>
    api("POST", `${resource}:setIamPolicy`, { policy: { bindings: [{ role, members: [member] }] } });
  const serviceAccount = async (id: string) => {
    await api("POST", `/v1/projects/${project}/serviceAccounts`, { accountId: id });
    return `${id}@${project}.iam.gserviceaccount.com`;
  };
  const idToken = async (email: string, audience: string) => {
    const user = await ensureUser(rg.platform, email);
    return rg.platform.tokens.signIdToken({
      principal: { kind: "user", email },
      uniqueId: user.uniqueId,
      audience,
      includeEmail: true,
    });
  };
  const servicePath = (name: string) => `/v1/projects/${project}/locations/${config.region}/services/${name}`;
  return {
    api,
    deploy,
    grant,
    serviceAccount,
    idToken,
    servicePath,
    call: (url: string, path?: string, headers?: Record<string, string>) =>
      callService(rg.endpoints.frontEnd, url, path, headers),
  };
}

type Show = (what: string, got: number, expected: number, detail?: string) => void;

/** IAP on a backend service in front of demo-private, called through the load balancer. */
async function runIapDemo(
  rg: Runguard,
  demo: ReturnType<typeof createDemo>,
  privateUrl: string,
  show: Show,
): Promise<void> {
  const { projectId, region } = rg.platform.config;
  const compute = `/compute/v1/projects/${projectId}`;
  const domain = "demo.runguard.test";
  console.log(`\nIAP: ${domain} → load balancer → backend service demo-backend (IAP) → demo-private`);
  await demo.api("POST", `${compute}/regions/${region}/networkEndpointGroups`, {
    name: "demo-neg",
    networkEndpointType: "SERVERLESS",
    cloudRun: { service: "demo-private" },
  });
  await demo.api("POST", `${compute}/global/backendServices`, {
    name: "demo-backend",
    loadBalancingScheme: "EXTERNAL_MANAGED",
  });
  const negUrl = `projects/${projectId}/regions/${region}/networkEndpointGroups/demo-neg`;
  await demo.api("PATCH", `${compute}/global/backendServices/demo-backend`, {
    backends: [{ group: negUrl }],
    iap: { enabled: true },
  });
  await demo.api("POST", `/runguard/v1/projects/${projectId}/loadBalancers`, {
    domain,
    backendService: "demo-backend",
  });
  const backend = JSON.parse((await demo.api("GET", `${compute}/global/backendServices/demo-backend`)).body) as {
    iap: { oauth2ClientId: string };
  };
  const identity = JSON.parse(
    (await demo.api("POST", `/v1beta1/projects/${projectId}/services/iap.googleapis.com:generateServiceIdentity`)).body,
  ) as { response: { email: string } };
  await demo.grant(demo.servicePath("demo-private"), "roles/run.invoker", `serviceAccount:${identity.response.email}`);
  const lb = (token?: string) =>
    callService(rg.endpoints.loadBalancer, `https://${domain}`, "/", token ? { authorization: `Bearer ${token}` } : {});
  const clientId = backend.iap.oauth2ClientId;
  show("through IAP, no credentials (redirected to sign in)", (await lb()).status, 302);
  show(
    "through IAP, token for the service URL (wrong audience)",
    (await lb(await demo.idToken("alice@example.com", privateUrl))).status,
    401,
  );
  const project = `/v1/projects/${projectId}`;
  const setAccessors = async (members: string[]) => {
    const policy = JSON.parse((await demo.api("POST", `${project}:getIamPolicy`, {})).body) as {
      bindings: Array<{ role: string; members: string[] }>;
      etag: string;
    };
    const others = policy.bindings.filter((b) => b.role !== "roles/iap.httpsResourceAccessor");
    const bindings = members.length > 0 ? [...others, { role: "roles/iap.httpsResourceAccessor", members }] : others;
    await demo.api("POST", `${project}:setIamPolicy`, { policy: { bindings, etag: policy.etag } });
  };
  const alice = async () => (await lb(await demo.idToken("alice@example.com", clientId))).status;
  await setAccessors([]);
  show("through IAP, alice without IAP-secured Web App User", await alice(), 403);
  await setAccessors(["user:alice@example.com"]);
  show("through IAP, alice with roles/iap.httpsResourceAccessor", await alice(), 200);
  // Demo-only local users with a fresh random password each run, so that a developer's own passwords stay put.
  const [reader, stranger] = ["demo-reader@example.com", "demo-stranger@example.com"];
  const password = randomBytes(12).toString("base64url");
  await setUserPassword(rg.platform, reader, password);
  await setUserPassword(rg.platform, stranger, password);
  await setAccessors(["user:alice@example.com", `user:${reader}`]);
  show(
    "browser sign-in on runguard's page, user with the IAP role",
    await signInThroughIap(rg.endpoints.loadBalancer, domain, reader, password),
    200,
  );
  show(
    "browser sign-in, user without the IAP role",
    await signInThroughIap(rg.endpoints.loadBalancer, domain, stranger, password),
    403,
  );
  const httpsPort = new URL(rg.endpoints.loadBalancerHttps).port;
  console.log(
    `  In a browser: chromium --host-resolver-rules="MAP ${domain} 127.0.0.1" https://${domain}:${httpsPort}/\n` +
      `  (trust ${rg.endpoints.caCertificatePath}; set a password first: runguard users add alice@example.com)`,
  );
}

export async function runDemo(rg: Runguard): Promise<boolean> {
  const demo = createDemo(rg);
  const { config } = rg.platform;
  let allAsExpected = true;
  const show: Show = (what, got, expected, detail = "") => {
    const ok = got === expected;
    allAsExpected &&= ok;
    console.log(
      `  ${ok ? "✔" : "✘"} ${what.padEnd(62)} → ${got} (Cloud Run: ${expected})${detail ? `  ${detail}` : ""}`,
    );
  };

  const publicService = await demo.deploy("demo-public", { image: HELLO_IMAGE });
  await demo.grant(demo.servicePath("demo-public"), "roles/run.invoker", "allUsers");
  const privateService = await demo.deploy("demo-private", { image: HELLO_IMAGE });
  const privateUrl = privateService.url;
  console.log(`\nInvocation: ${publicService.url} (public), ${privateUrl} (private)`);
  show("public service, no token", (await demo.call(publicService.url)).status, 200);
  show("private service, no token", (await demo.call(privateUrl)).status, 403);
  show(
    "private service, garbage token",
    (await demo.call(privateUrl, "/", { authorization: "Bearer garbage" })).status,
    401,
  );
  show(
    "private service, token for another audience",
    (
      await demo.call(privateUrl, "/", {
        authorization: `Bearer ${await demo.idToken(config.ownerEmail, "https://elsewhere.example")}`,
      })
    ).status,
    401,
  );
  show(
    "private service, alice (no run.invoker)",
    (
      await demo.call(privateUrl, "/", {
        authorization: `Bearer ${await demo.idToken("alice@example.com", privateUrl)}`,
      })
    ).status,
    403,
  );
  show(
    `private service, owner ${config.ownerEmail}`,
    (await demo.call(privateUrl, "/", { authorization: `Bearer ${await demo.idToken(config.ownerEmail, privateUrl)}` }))
      .status,
    200,
  );

  if (existsSync(SDK_PYTHON)) {
    console.log("\nService to service: the seed's call_private_service (Python google.auth) in demo-caller → demo-api");
    await addImage(rg.platform.store, "runguard/demo/json-api", examples("json-api"), [process.execPath, "server.mjs"]);
    const target = await demo.deploy("demo-api", { image: "runguard/demo/json-api" });
    await addImage(rg.platform.store, "runguard/demo/s2s-python", examples("s2s-python"), [
      "/usr/bin/env",
      "PYTHONPATH=/usr/lib/google-cloud-sdk/lib/third_party",
      SDK_PYTHON,
      "main.py",
    ]);
    const caller = await demo.serviceAccount("demo-caller-sa");
    const callerService = await demo.deploy("demo-caller", { image: "runguard/demo/s2s-python" }, caller);
    await demo.grant(demo.servicePath("demo-caller"), "roles/run.invoker", "allUsers");
    const viaCaller = async () => {
      const result = await demo.call(callerService.url, `/?target=${encodeURIComponent(target.url)}`);
      const parsed = JSON.parse(result.body) as { ok: boolean; status?: number; error?: string };
      return parsed.ok ? 200 : (parsed.status ?? 0);
    };
    await demo.grant(demo.servicePath("demo-api"), "roles/run.invoker", "user:nobody@example.com");
    show("demo-caller-sa without run.invoker on demo-api", await viaCaller(), 403);
    await demo.grant(demo.servicePath("demo-api"), "roles/run.invoker", `serviceAccount:${caller}`);
    show("after granting demo-caller-sa roles/run.invoker", await viaCaller(), 200);
  }

  console.log("\nSecrets: DB_PASSWORD from Secret Manager (--set-secrets=DB_PASSWORD=demo-db-password:latest)");
  await addImage(rg.platform.store, "runguard/demo/secret-env", examples("secret-env"), [
    process.execPath,
    "server.mjs",
  ]);
  const project = config.projectId;
  await demo.api("POST", `/v1/projects/${project}/secrets?secretId=demo-db-password`, {
    replication: { automatic: {} },
  });
  await demo.api("POST", `/v1/projects/${project}/secrets/demo-db-password:addVersion`, {
    payload: { data: Buffer.from(`demo-${Date.now()}`).toString("base64") },
  });
  const account = await demo.serviceAccount("demo-secret-sa");
  const container = {
    image: "runguard/demo/secret-env",
    env: [{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "demo-db-password", key: "latest" } } }],
  };
  await demo.grant(
    `/v1/projects/${project}/secrets/demo-db-password`,
    "roles/secretmanager.secretAccessor",
    "user:nobody@example.com",
  );
  show(
    "deploy while demo-secret-sa cannot read the secret",
    (await demo.deploy("demo-secret", container, account)).status,
    400,
  );
  await demo.grant(
    `/v1/projects/${project}/secrets/demo-db-password`,
    "roles/secretmanager.secretAccessor",
    `serviceAccount:${account}`,
  );
  const secretService = await demo.deploy("demo-secret", container, account);
  show("deploy once it holds roles/secretmanager.secretAccessor", secretService.status, 200);
  await demo.grant(demo.servicePath("demo-secret"), "roles/run.invoker", "allUsers");
  const answer = await demo.call(secretService.url);
  show("the instance got its DB_PASSWORD", answer.status, 200, answer.body.trim());

  await runIapDemo(rg, demo, privateUrl, show);
  return allAsExpected;
}
