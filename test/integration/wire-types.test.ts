// Malformed bodies and values on the control plane: each case the hardening issue lists gets Google's 400
// INVALID_ARGUMENT (raw HTTP with the owner's token, and the real gcloud where gcloud can send it), and nothing
// invalid is stored: gcloud still lists and describes everything afterwards.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { gcloud } from "../helpers/gcloud.js";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";

interface GoogleError {
  error: {
    code: number;
    message: string;
    status: string;
    details?: Array<{ "@type": string; fieldViolations?: Array<{ field: string; description: string }> }>;
  };
}

const KN = `/apis/serving.knative.dev/v1/namespaces/${PROJECT}/services`;
const V2 = `/v2/projects/${PROJECT}/locations/us-central1/services`;
const IMAGE = "us-docker.pkg.dev/cloudrun/container/hello";
const SA_EMAIL = `wire-sa@${PROJECT}.iam.gserviceaccount.com`;

const knative = (name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
  apiVersion: "serving.knative.dev/v1",
  kind: "Service",
  metadata: { name, namespace: PROJECT, ...metadata },
  spec: { template: { spec } },
});

describe("Google-shaped 400s for malformed control-plane bodies", () => {
  let rg: TestRunguard;
  let token: string;
  let env: Record<string, string>;
  const g = (args: string[], stdin?: string) => gcloud(env, args, stdin === undefined ? {} : { stdin });

  const send = async (method: string, path: string, body: string | object) => {
    const response = await fetch(`${rg.endpoints.api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
      },
      ...(method === "GET" ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as GoogleError & Record<string, unknown> };
  };

  /** A 400 INVALID_ARGUMENT whose message has `pattern`, with the field named in a BadRequest violation. */
  const assertInvalid = (result: { status: number; json: GoogleError }, pattern: RegExp, field?: string) => {
    assert.equal(result.status, 400, JSON.stringify(result.json));
    assert.equal(result.json.error.code, 400);
    assert.equal(result.json.error.status, "INVALID_ARGUMENT");
    assert.match(result.json.error.message, pattern);
    if (field) {
      const violations = result.json.error.details?.find((d) => d["@type"].endsWith("google.rpc.BadRequest"));
      assert.ok(
        violations?.fieldViolations?.some((v) => v.field === field),
        `no violation for ${field}: ${JSON.stringify(result.json.error.details)}`,
      );
    }
  };

  before(async () => {
    rg = await startTestRunguard();
    token = await rg.accessTokenFor(`user:${OWNER}`);
    env = await rg.gcloudEnvFor();
    assert.equal((await g(["iam", "service-accounts", "create", "wire-sa"])).code, 0);
    const created = await g(["secrets", "create", "wire-secret", "--data-file=-", "--labels=team=core"], "s3cr3t");
    assert.equal(created.code, 0, created.stderr);
    const deployed = await send("POST", KN, knative("wire-svc", { containers: [{ image: IMAGE }] }));
    assert.equal(deployed.status, 200, JSON.stringify(deployed.json));
  });
  after(async () => rg.stop());

  it("Run v1 (Knative): wrong JSON types in the service are 400, not 500, and nothing is created", async () => {
    const cases: Array<[Record<string, unknown>, RegExp, string]> = [
      [
        knative("bad-containers", { containers: "x" }),
        /^Invalid value at 'service\.spec\.template\.spec\.containers' \(type\.googleapis\.com\/google\.cloud\.run\.v1\.Container\), "x"/,
        "service.spec.template.spec.containers",
      ],
      [
        knative("bad-env", { containers: [{ image: IMAGE, env: "A=1" }] }),
        /'service\.spec\.template\.spec\.containers\[0\]\.env' \(type\.googleapis\.com\/google\.cloud\.run\.v1\.EnvVar\), "A=1"/,
        "service.spec.template.spec.containers[0].env",
      ],
      [
        knative("bad-env-entry", { containers: [{ image: IMAGE, env: [{ name: { x: 1 }, value: 5 }] }] }),
        /'service\.spec\.template\.spec\.containers\[0\]\.env\[0\]' \(name\), Starting an object on a scalar field\nInvalid value at 'service\.spec\.template\.spec\.containers\[0\]\.env\[0\]\.value' \(TYPE_STRING\), 5/,
        "service.spec.template.spec.containers[0].env[0].value",
      ],
      [
        knative("bad-env-list", { containers: [{ image: IMAGE, env: [7, null] }] }),
        /'service\.spec\.template\.spec\.containers\[0\]\.env\[0\]' \(type\.googleapis\.com\/google\.cloud\.run\.v1\.EnvVar\), 7/,
        "service.spec.template.spec.containers[0].env[1]",
      ],
      [
        knative("bad-sa", { containers: [{ image: IMAGE }], serviceAccountName: 5 }),
        /^Invalid value at 'service\.spec\.template\.spec\.service_account_name' \(TYPE_STRING\), 5$/,
        "service.spec.template.spec.service_account_name",
      ],
      [
        knative("null-container", { containers: [null] }),
        /'service\.spec\.template\.spec\.containers\[0\]' \(type\.googleapis\.com\/google\.cloud\.run\.v1\.Container\), null/,
        "service.spec.template.spec.containers[0]",
      ],
      [
        knative("bad-labels", { containers: [{ image: IMAGE }] }, { labels: { team: 5, ok: "yes" } }),
        /^Invalid value at 'service\.metadata\.labels\[0\]\.value' \(TYPE_STRING\), 5$/,
        "service.metadata.labels[0].value",
      ],
      [
        knative("bad-image", { containers: [{ image: ["a", "b"] }] }),
        /^Invalid JSON payload received\. Unknown name "image" at 'service\.spec\.template\.spec\.containers\[0\]': Proto field is not repeating, cannot start list\.$/,
        "service.spec.template.spec.containers[0].image",
      ],
    ];
    for (const [body, pattern, field] of cases) {
      assertInvalid(await send("POST", KN, body), pattern, field);
    }
    // The same on replace: the stored service keeps its labels.
    const replaced = await send(
      "PUT",
      `${KN}/wire-svc`,
      knative("wire-svc", { containers: [{ image: IMAGE }] }, { labels: { team: { nested: true } } }),
    );
    assertInvalid(
      replaced,
      /^Invalid value at 'service\.metadata\.labels\[0\]' \(value\), Starting an object on a scalar field$/,
    );
    const listed = await g(["run", "services", "list", "--format=value(metadata.name)"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split("\n"), ["wire-svc"]);
    const described = await g(["run", "services", "describe", "wire-svc", "--region=us-central1", "--format=json"]);
    assert.equal(described.code, 0, described.stderr);
  });

  it("Run v2: wrong JSON types in the service are 400, not 500", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { template: { containers: "x" } },
        /'service\.template\.containers' \(type\.googleapis\.com\/google\.cloud\.run\.v2\.Container\), "x"/,
      ],
      [
        { template: { containers: [null] } },
        /'service\.template\.containers\[0\]' \(type\.googleapis\.com\/google\.cloud\.run\.v2\.Container\), null/,
      ],
      [
        { template: { containers: [{ image: IMAGE, env: {} }] } },
        /'service\.template\.containers\[0\]\.env' \(type\.googleapis\.com\/google\.cloud\.run\.v2\.EnvVar\), \{\}/,
      ],
      [
        { template: { containers: [{ image: IMAGE, env: [{ name: 1 }] }] } },
        /'service\.template\.containers\[0\]\.env\[0\]\.name' \(TYPE_STRING\), 1/,
      ],
      [
        { template: { containers: [{ image: IMAGE }], serviceAccount: false } },
        /'service\.template\.service_account' \(TYPE_STRING\), false/,
      ],
      [
        { labels: { a: [] }, template: { containers: [{ image: IMAGE }] } },
        /Unknown name "value" at 'service\.labels\[0\]': Proto field is not repeating, cannot start list\./,
      ],
      [
        { ingress: "SOMETIMES", template: { containers: [{ image: IMAGE }] } },
        /'service\.ingress' \(type\.googleapis\.com\/google\.cloud\.run\.v2\.IngressTraffic\), "SOMETIMES"/,
      ],
      [
        { template: { maxInstanceRequestConcurrency: 1.5, containers: [{ image: IMAGE }] } },
        /'service\.template\.max_instance_request_concurrency' \(TYPE_INT32\), 1\.5/,
      ],
    ];
    for (const [body, pattern] of cases) {
      assertInvalid(await send("POST", `${V2}?serviceId=v2-bad`, body), pattern);
    }
    const patched = await send("PATCH", `${V2}/wire-svc`, { template: { containers: [{ image: IMAGE, args: "x" }] } });
    assertInvalid(patched, /'service\.template\.containers\[0\]\.args' \(TYPE_STRING\), "x"/);
    const listed = await send("GET", V2, "");
    assert.deepEqual(
      (listed.json["services"] as Array<{ name: string }>).map((s) => s.name.split("/").pop()),
      ["wire-svc"],
    );
  });

  it("setIamPolicy: a non-string etag and a non-list auditConfigs are 400 on every resource type; nothing is stored", async () => {
    const resources = [
      `/v1/projects/${PROJECT}`,
      `/v1/projects/${PROJECT}/serviceAccounts/${SA_EMAIL}`,
      `/v1/projects/${PROJECT}/secrets/wire-secret`,
      `/v1/projects/${PROJECT}/locations/us-central1/services/wire-svc`,
      `/v2/projects/${PROJECT}/locations/us-central1/services/wire-svc`,
    ];
    for (const resource of resources) {
      const etag = await send("POST", `${resource}:setIamPolicy`, { policy: { etag: 5 } });
      assertInvalid(etag, /^Invalid value at 'policy\.etag' \(TYPE_BYTES\), Base64 decoding failed$/, "policy.etag");
      const audit = await send("POST", `${resource}:setIamPolicy`, { policy: { auditConfigs: "x" } });
      assertInvalid(
        audit,
        /^Invalid value at 'policy\.audit_configs' \(type\.googleapis\.com\/google\.iam\.v1\.AuditConfig\), "x"$/,
        "policy.audit_configs",
      );
      const members = await send("POST", `${resource}:setIamPolicy`, {
        policy: { version: "three", bindings: [{ role: "roles/viewer", members: [`user:${OWNER}`, 7] }] },
      });
      assertInvalid(
        members,
        /Invalid value at 'policy\.version' \(TYPE_INT32\), "three"\nInvalid value at 'policy\.bindings\[0\]\.members\[1\]' \(TYPE_STRING\), 7/,
      );
      const condition = await send("POST", `${resource}:setIamPolicy`, {
        policy: { version: 3, bindings: [{ role: "roles/viewer", members: [`user:${OWNER}`], condition: "true" }] },
      });
      assertInvalid(
        condition,
        /'policy\.bindings\[0\]\.condition' \(type\.googleapis\.com\/google\.type\.Expr\), "true"/,
      );
    }
    const policy = await g(["projects", "get-iam-policy", PROJECT, "--format=json"]);
    assert.equal(policy.code, 0, policy.stderr);
    assert.equal((JSON.parse(policy.stdout) as { auditConfigs?: unknown }).auditConfigs, undefined);
  });

  it("Secret Manager: labels that are not strings or break Google's label rules are 400, on create and update", async () => {
    const secrets = `/v1/projects/${PROJECT}/secrets`;
    const created = await send("POST", `${secrets}?secretId=bad-labels`, {
      replication: { automatic: {} },
      labels: { team: 5 },
    });
    assertInvalid(
      created,
      /^Invalid value at 'secret\.labels\[0\]\.value' \(TYPE_STRING\), 5$/,
      "secret.labels[0].value",
    );
    const badKey = await send("POST", `${secrets}?secretId=bad-labels`, {
      replication: { automatic: {} },
      labels: { Team: "x" },
    });
    assertInvalid(badKey, /^Invalid value at 'secret\.labels\[0\]\.key': Label key 'Team' is invalid/);
    const badReplication = await send("POST", `${secrets}?secretId=bad-labels`, { replication: { automatic: 1 } });
    assertInvalid(
      badReplication,
      /'secret\.replication\.automatic' \(type\.googleapis\.com\/google\.cloud\.secretmanager\.v1\.Replication\.Automatic\), 1/,
    );
    const updated = await send("PATCH", `${secrets}/wire-secret?updateMask=labels`, { labels: { team: null, x: {} } });
    assertInvalid(updated, /^Invalid value at 'secret\.labels\[0\]' \(value\), Starting an object on a scalar field$/);
    const payload = await send("POST", `${secrets}/wire-secret:addVersion`, { payload: { data: "not base64!" } });
    assertInvalid(payload, /^Invalid value at 'payload\.data' \(TYPE_BYTES\), Base64 decoding failed$/);
    assert.equal(payload.json.error.message.includes("not base64!"), false);
    const state = await send("POST", `${secrets}/wire-secret/versions/1:disable`, { etag: ["x"] });
    assertInvalid(state, /Unknown name "etag": Proto field is not repeating, cannot start list\./);
    const listed = await g(["secrets", "list", "--format=value(name)"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split("\n"), ["wire-secret"]);
    const described = await g(["secrets", "describe", "wire-secret", "--format=json"]);
    assert.equal(described.code, 0, described.stderr);
    assert.deepEqual((JSON.parse(described.stdout) as { labels: unknown }).labels, { team: "core" });
  });

  it("gcloud: annotations over Secret Manager's 16KiB are refused with 400 and gcloud prints Google's message", async () => {
    const result = await g(
      ["secrets", "create", "big-annotations", "--data-file=-", `--set-annotations=note=${"x".repeat(17 * 1024)}`],
      "v",
    );
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /INVALID_ARGUMENT: Invalid value at 'secret\.annotations': The annotations of a secret may total at most 16KiB/,
    );
    const listed = await g(["secrets", "list", "--format=value(name)"]);
    assert.deepEqual(listed.stdout.trim().split("\n"), ["wire-secret"]);
  });

  it("IAM admin, credentials, compute and Service Usage bodies with wrong types are 400", async () => {
    const cases: Array<[string, string, object, RegExp]> = [
      [
        "POST",
        `/v1/projects/${PROJECT}/serviceAccounts`,
        { accountId: 12345678 },
        /'account_id' \(TYPE_STRING\), 12345678/,
      ],
      [
        "POST",
        `/v1/projects/${PROJECT}/serviceAccounts`,
        { accountId: "ok-account", serviceAccount: "x" },
        /'service_account' \(type\.googleapis\.com\/google\.iam\.admin\.v1\.ServiceAccount\), "x"/,
      ],
      [
        "PATCH",
        `/v1/projects/${PROJECT}/serviceAccounts/${SA_EMAIL}`,
        { serviceAccount: { displayName: 1 } },
        /'service_account\.display_name' \(TYPE_STRING\), 1/,
      ],
      [
        "POST",
        `/v1/projects/${PROJECT}/serviceAccounts/${SA_EMAIL}/keys`,
        { privateKeyType: "TYPE_PEM" },
        /'private_key_type' \(type\.googleapis\.com\/google\.iam\.admin\.v1\.ServiceAccountPrivateKeyType\), "TYPE_PEM"/,
      ],
      [
        "POST",
        `/v1/projects/-/serviceAccounts/${SA_EMAIL}:generateAccessToken`,
        { scope: "x" },
        /'scope' \(TYPE_STRING\), "x"/,
      ],
      [
        "POST",
        `/v1/projects/-/serviceAccounts/${SA_EMAIL}:generateIdToken`,
        { audience: ["x"] },
        /Unknown name "audience": Proto field is not repeating/,
      ],
      [
        "POST",
        `/v1/projects/${PROJECT}:testIamPermissions`,
        { permissions: [1] },
        /'permissions\[0\]' \(TYPE_STRING\), 1/,
      ],
      [
        "POST",
        `/v1/projects/${PROJECT}:getIamPolicy`,
        { options: { requestedPolicyVersion: "x" } },
        /'options\.requested_policy_version' \(TYPE_INT32\), "x"/,
      ],
      [
        "POST",
        `/compute/v1/projects/${PROJECT}/global/networks`,
        { name: "n1", autoCreateSubnetworks: "yes" },
        /'resource\.auto_create_subnetworks' \(TYPE_BOOL\), "yes"/,
      ],
      [
        "POST",
        `/compute/v1/projects/${PROJECT}/global/backendServices`,
        { name: "b1", timeoutSec: "soon" },
        /'resource\.timeout_sec' \(TYPE_INT32\), "soon"/,
      ],
      [
        "POST",
        `/compute/v1/projects/${PROJECT}/global/urlMaps`,
        { name: "m1", hostRules: [{ hosts: "a" }] },
        /'resource\.host_rules\[0\]\.hosts' \(TYPE_STRING\), "a"/,
      ],
      [
        "POST",
        `/v1/projects/${PROJECT}/locations/us-central1/connectors?connectorId=c1`,
        { minInstances: {} },
        /'connector' \(min_instances\), Starting an object on a scalar field/,
      ],
      [
        "POST",
        `/v1/projects/${PROJECT}/services:batchEnable`,
        { serviceIds: [[]] },
        /Proto field is not repeating|'service_ids\[0\]' \(TYPE_STRING\)/,
      ],
    ];
    for (const [method, path, body, pattern] of cases) assertInvalid(await send(method, path, body), pattern);
    const accounts = await g(["iam", "service-accounts", "list", "--format=value(email)"]);
    assert.equal(accounts.code, 0, accounts.stderr);
    assert.deepEqual(
      accounts.stdout
        .trim()
        .split("\n")
        .filter((email) => !email.endsWith("-compute@developer.gserviceaccount.com")),
      [SA_EMAIL],
    );
  });

  it("bodies that are not JSON objects, nest too deep or are too large are 400 in Google's words", async () => {
    const path = `/v1/projects/${PROJECT}:setIamPolicy`;
    assertInvalid(await send("POST", path, "{"), /^Invalid JSON payload received\./);
    assertInvalid(
      await send("POST", path, "[]"),
      /^Invalid JSON payload received\. Unknown name "": Root element must be a message\.$/,
    );
    assertInvalid(await send("POST", path, '"policy"'), /Root element must be a message/);
    assertInvalid(await send("POST", path, "\u00ff\u0000garbage"), /^Invalid JSON payload received\./);
    const deep = `{"policy":${"[".repeat(5000)}${"]".repeat(5000)}}`;
    assertInvalid(await send("POST", path, deep), /^Invalid JSON payload received\. Message too deep/);
    const huge = JSON.stringify({
      policy: { bindings: [{ role: "roles/viewer", members: ["x".repeat(2 * 1024 * 1024)] }] },
    });
    assertInvalid(await send("POST", path, huge), /^Request payload size exceeds the limit: \d+ bytes\.$/);
    const policy = await g(["projects", "get-iam-policy", PROJECT, "--format=json"]);
    assert.equal(policy.code, 0, policy.stderr);
  });
});
