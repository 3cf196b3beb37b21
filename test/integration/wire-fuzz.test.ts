// Property test of every control-plane write body: each field of a valid body, in turn, is replaced by an
// arbitrary JSON value (wrong types, nulls, huge strings, nested lists and objects, unicode), and raw bodies are
// arbitrary text. No answer may be a 5xx, and afterwards the real gcloud still lists and describes everything:
// nothing invalid was stored.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { gcloud } from "../helpers/gcloud.js";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";

const IMAGE = "us-docker.pkg.dev/cloudrun/container/hello";
const SA = `fuzz-sa@${PROJECT}.iam.gserviceaccount.com`;
const KN = `/apis/serving.knative.dev/v1/namespaces/${PROJECT}/services`;
const V2 = `/v2/projects/${PROJECT}/locations/us-central1/services`;
const CP = `/compute/v1/projects/${PROJECT}`;
const RUNS_PER_FIELD = 20;
const RAW_RUNS = 15;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Endpoint {
  method: string;
  path: string;
  body: Json;
  /** Fields left out because a valid value there legitimately changes who may call (the project's policy). */
  skip?: string[];
}

const knativeService = (name: string): Json => ({
  apiVersion: "serving.knative.dev/v1",
  kind: "Service",
  metadata: {
    name,
    namespace: PROJECT,
    labels: { team: "core" },
    annotations: { "run.googleapis.com/ingress": "all" },
  },
  spec: {
    template: {
      metadata: { labels: { tier: "web" }, annotations: { "autoscaling.knative.dev/maxScale": "3" } },
      spec: {
        containerConcurrency: 80,
        timeoutSeconds: 300,
        serviceAccountName: SA,
        containers: [
          {
            image: IMAGE,
            env: [
              { name: "MODE", value: "fuzz" },
              { name: "DB", valueFrom: { secretKeyRef: { name: "fuzz-secret", key: "latest" } } },
            ],
            ports: [{ name: "http1", containerPort: 8080 }],
            resources: { limits: { cpu: "1000m", memory: "512Mi" } },
          },
        ],
      },
    },
  },
});

const v2Service: Json = {
  labels: { team: "core" },
  ingress: "INGRESS_TRAFFIC_ALL",
  template: {
    serviceAccount: SA,
    scaling: { maxInstanceCount: 2 },
    timeout: "30s",
    maxInstanceRequestConcurrency: 10,
    containers: [
      { image: IMAGE, args: ["--x"], env: [{ name: "MODE", value: "fuzz" }], ports: [{ containerPort: 8080 }] },
    ],
  },
};

const policy = (withEtag: boolean): Json => ({
  policy: {
    version: 3,
    bindings: [
      {
        role: "roles/viewer",
        members: ["user:fuzz@example.com"],
        condition: { title: "always", expression: "true" },
      },
    ],
    auditConfigs: [
      { service: "allServices", auditLogConfigs: [{ logType: "DATA_READ", exemptedMembers: [`user:${OWNER}`] }] },
    ],
    ...(withEtag ? { etag: "BwAAAAAAAAA=" } : {}),
  },
  updateMask: "bindings,auditConfigs",
});

const BACKEND = "global/backendServices/fuzz-be";

const ENDPOINTS: Endpoint[] = [
  { method: "POST", path: KN, body: knativeService("fuzz-new") },
  { method: "PUT", path: `${KN}/fuzz-svc`, body: knativeService("fuzz-svc") },
  { method: "POST", path: `${V2}?serviceId=fuzz-v2`, body: v2Service },
  { method: "PATCH", path: `${V2}/fuzz-svc`, body: v2Service },
  { method: "POST", path: `/v1/projects/${PROJECT}:setIamPolicy`, body: policy(true), skip: ["policy", "policy.etag"] },
  { method: "POST", path: `/v1/projects/${PROJECT}:getIamPolicy`, body: { options: { requestedPolicyVersion: 3 } } },
  { method: "POST", path: `/v1/projects/${PROJECT}:testIamPermissions`, body: { permissions: ["run.services.get"] } },
  { method: "POST", path: `/v1/projects/${PROJECT}/serviceAccounts/${SA}:setIamPolicy`, body: policy(false) },
  { method: "POST", path: `/v1/projects/${PROJECT}/secrets/fuzz-secret:setIamPolicy`, body: policy(false) },
  {
    method: "POST",
    path: `/v1/projects/${PROJECT}/locations/us-central1/services/fuzz-svc:setIamPolicy`,
    body: policy(false),
  },
  { method: "POST", path: `${V2}/fuzz-svc:setIamPolicy`, body: policy(false) },
  {
    method: "POST",
    path: `/v1/projects/${PROJECT}/serviceAccounts`,
    body: { accountId: "fuzz-new-sa", serviceAccount: { displayName: "Fuzz", description: "made by the fuzzer" } },
  },
  {
    method: "PATCH",
    path: `/v1/projects/${PROJECT}/serviceAccounts/${SA}`,
    body: { serviceAccount: { displayName: "Fuzz", description: "patched" }, updateMask: "displayName,description" },
  },
  {
    method: "POST",
    path: `/v1/projects/${PROJECT}/serviceAccounts/${SA}/keys`,
    body: { privateKeyType: "TYPE_GOOGLE_CREDENTIALS_FILE", keyAlgorithm: "KEY_ALG_RSA_2048" },
  },
  {
    method: "POST",
    path: `/v1/projects/-/serviceAccounts/${SA}:generateAccessToken`,
    body: { scope: ["https://www.googleapis.com/auth/cloud-platform"], lifetime: "600s", delegates: [] },
  },
  {
    method: "POST",
    path: `/v1/projects/-/serviceAccounts/${SA}:generateIdToken`,
    body: { audience: "https://fuzz.example.com", includeEmail: true },
  },
  {
    method: "POST",
    path: `/v1/projects/${PROJECT}/secrets?secretId=fuzz-new`,
    body: { replication: { automatic: {} }, labels: { team: "core" }, annotations: { note: "x" } },
  },
  {
    method: "PATCH",
    path: `/v1/projects/${PROJECT}/secrets/fuzz-secret?updateMask=labels,annotations`,
    body: { labels: { team: "core" }, annotations: { note: "x" } },
  },
  {
    method: "POST",
    path: `/v1/projects/${PROJECT}/secrets/fuzz-secret:addVersion`,
    body: { payload: { data: "aGk=" } },
  },
  { method: "POST", path: `/v1/projects/${PROJECT}/secrets/fuzz-secret/versions/1:enable`, body: { etag: '"x"' } },
  {
    method: "POST",
    path: `/v1/projects/${PROJECT}/services:batchEnable`,
    body: { serviceIds: ["run.googleapis.com"] },
  },
  {
    method: "POST",
    path: `${CP}/global/networks`,
    body: { name: "fuzz-net", autoCreateSubnetworks: false, routingConfig: { routingMode: "REGIONAL" } },
  },
  {
    method: "POST",
    path: `${CP}/regions/us-central1/subnetworks`,
    body: {
      name: "fuzz-sub",
      network: "global/networks/fuzz-net",
      ipCidrRange: "10.9.0.0/24",
      privateIpGoogleAccess: true,
    },
  },
  {
    method: "POST",
    path: `${CP}/regions/us-central1/networkEndpointGroups`,
    body: { name: "fuzz-neg", networkEndpointType: "SERVERLESS", cloudRun: { service: "fuzz-svc" } },
  },
  {
    method: "POST",
    path: `${CP}/global/backendServices`,
    body: { name: "fuzz-be", protocol: "HTTP", loadBalancingScheme: "EXTERNAL_MANAGED", timeoutSec: 30 },
  },
  {
    method: "POST",
    path: `${CP}/global/urlMaps`,
    body: {
      name: "fuzz-map",
      defaultService: BACKEND,
      hostRules: [{ hosts: ["a.example.com"], pathMatcher: "m" }],
      pathMatchers: [{ name: "m", defaultService: BACKEND, pathRules: [{ paths: ["/x"], service: BACKEND }] }],
    },
  },
  {
    method: "PATCH",
    path: `${CP}/global/backendServices/fuzz-be`,
    body: {
      name: "fuzz-be",
      backends: [{ group: "regions/us-central1/networkEndpointGroups/fuzz-neg" }],
      iap: { enabled: false },
    },
  },
  {
    method: "PATCH",
    path: `${CP}/global/urlMaps/fuzz-map`,
    body: {
      defaultService: BACKEND,
      hostRules: [{ hosts: ["b.example.com"], pathMatcher: "m" }],
      pathMatchers: [{ name: "m", defaultService: BACKEND }],
    },
  },
  {
    method: "POST",
    path: `/runguard/v1/projects/${PROJECT}/global/networks/default/privateResources`,
    body: { address: "10.20.0.5:5432", target: "127.0.0.1:9", description: "fuzz" },
  },
  {
    method: "POST",
    path: `/runguard/v1/projects/${PROJECT}/loadBalancers`,
    body: { domain: "fuzz.example.com", backendService: "fuzz-be" },
  },
  {
    method: "POST",
    path: "/o/oauth2/v2/auth",
    body: { client_id: "fuzz-client", redirect_uri: "https://fuzz.example.com/cb", email: OWNER, password: "x" },
  },
  {
    method: "POST",
    path: `/v1/projects/${PROJECT}/locations/us-central1/connectors?connectorId=fuzz-conn`,
    body: { network: "default", ipCidrRange: "10.8.0.0/28", minInstances: 2, maxInstances: 3 },
  },
  {
    method: "POST",
    path: "/token",
    body: { grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: "a.b.c" },
  },
  {
    method: "POST",
    path: "/runguard/v1/iam:explain",
    body: { principal: `user:${OWNER}`, permission: "run.services.get", resource: `projects/${PROJECT}` },
  },
  {
    method: "POST",
    path: "/runguard/v1/groups/fuzz-team@example.com:addMember",
    body: { member: "user:fuzz@example.com" },
  },
];

/** Every field path of a body, as lists of keys and indices. */
function pathsOf(value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...pathsOf(v, [...prefix, i])]);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
}

function replaced(body: Json, path: Array<string | number>, value: Json): Json {
  const copy = structuredClone(body);
  let node = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  node[path[path.length - 1] as string | number] = value;
  return copy;
}

const nested = (depth: number): Json =>
  depth === 0 ? "bottom" : depth % 2 ? [nested(depth - 1)] : { x: nested(depth - 1) };

/** Hostile JSON values: any JSON, nulls, long and strange strings, deep and wide nesting. */
const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.constant(null),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.integer({ min: 1, max: 300_000 }).map((n) => "é𝄞".repeat(n)),
  fc.integer({ min: 1, max: 150 }).map(nested),
  fc.array(fc.array(fc.oneof(fc.integer(), fc.string(), fc.constant(null)), { maxLength: 3 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ unit: "binary", maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, {
    maxKeys: 4,
  }),
  fc.constantFrom<Json>(true, 0, -1, 1.5, 2 ** 53, "", "null", [], {}, "__proto__", { __proto__: { x: 1 } }),
);

describe("control-plane write bodies under arbitrary JSON", () => {
  let rg: TestRunguard;
  let token: string;
  let env: Record<string, string>;
  const g = (args: string[], stdin?: string) => gcloud(env, args, stdin === undefined ? {} : { stdin });

  const send = async (endpoint: Endpoint, text: string) => {
    const response = await fetch(`${rg.endpoints.api}${endpoint.path}`, {
      method: endpoint.method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: text,
    });
    const body = await response.text();
    return { status: response.status, body };
  };

  before(async () => {
    rg = await startTestRunguard();
    token = await rg.accessTokenFor(`user:${OWNER}`);
    env = await rg.gcloudEnvFor();
    assert.equal((await g(["iam", "service-accounts", "create", "fuzz-sa"])).code, 0);
    const secret = await g(["secrets", "create", "fuzz-secret", "--data-file=-"], "s3cr3t");
    assert.equal(secret.code, 0, secret.stderr);
    const granted = await g([
      "secrets",
      "add-iam-policy-binding",
      "fuzz-secret",
      `--member=serviceAccount:${SA}`,
      "--role=roles/secretmanager.secretAccessor",
    ]);
    assert.equal(granted.code, 0, granted.stderr);
    const service = await send(ENDPOINTS[0] as Endpoint, JSON.stringify(knativeService("fuzz-svc")));
    assert.equal(service.status, 200, service.body);
  });
  after(async () => rg.stop());

  it("no field of any write body, replaced by any JSON value, gets a 5xx; raw bodies neither", async (t) => {
    const counts: string[] = [];
    for (const endpoint of ENDPOINTS) {
      const paths = pathsOf(endpoint.body).filter((p) => !endpoint.skip?.includes(p.join(".")));
      let cases = 0;
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: paths.length - 1 }), hostileValue, async (index, value) => {
          cases++;
          const path = paths[index] as Array<string | number>;
          const result = await send(endpoint, JSON.stringify(replaced(endpoint.body, path, value)));
          assert.ok(
            result.status < 500,
            `${endpoint.method} ${endpoint.path} ${path.join(".")}: ${result.status} ${result.body}`,
          );
          if (result.status === 400)
            assert.match(
              result.body,
              /"status":"(INVALID_ARGUMENT|FAILED_PRECONDITION|OUT_OF_RANGE)"|"error":"[a-z_]+"|That’s an error\./,
            );
        }),
        { numRuns: paths.length * RUNS_PER_FIELD, includeErrorInReport: true },
      );
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.string({ unit: "binary", maxLength: 200 }),
            fc.jsonValue().map((v) => JSON.stringify(v)),
          ),
          async (text) => {
            cases++;
            const result = await send(endpoint, text);
            assert.ok(
              result.status < 500,
              `${endpoint.method} ${endpoint.path} raw ${JSON.stringify(text)}: ${result.body}`,
            );
          },
        ),
        { numRuns: RAW_RUNS, includeErrorInReport: true },
      );
      counts.push(`${endpoint.method} ${endpoint.path.split("?")[0]}: ${cases} cases`);
    }
    t.diagnostic(`property cases per endpoint:\n${counts.join("\n")}`);
  });

  it("afterwards gcloud still lists and describes services, secrets, policies and accounts", async () => {
    for (const args of [
      ["run", "services", "list"],
      ["run", "services", "describe", "fuzz-svc", "--region=us-central1"],
      ["secrets", "list"],
      ["secrets", "describe", "fuzz-secret"],
      ["projects", "get-iam-policy", PROJECT],
      ["iam", "service-accounts", "list"],
      ["iam", "service-accounts", "get-iam-policy", SA],
      ["secrets", "get-iam-policy", "fuzz-secret"],
      ["run", "services", "get-iam-policy", "fuzz-svc", "--region=us-central1"],
    ]) {
      const result = await g([...args, "--format=json"]);
      assert.equal(result.code, 0, `gcloud ${args.join(" ")}: ${result.stderr}`);
      JSON.parse(result.stdout);
    }
  });
});
