// One positive and one negative case per rule, on hand-built inputs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { analyze } from "./analyze.js";
import type { AnalysisInput, AnalyzedService } from "./model.js";
import type { Policy } from "../iam/types.js";

const P = "my-proj";
const SA = `api-sa@${P}.iam.gserviceaccount.com`;

function service(overrides: Partial<AnalyzedService> = {}): AnalyzedService {
  const name = overrides.name ?? "api";
  return {
    name,
    region: "us-central1",
    resource: `projects/${P}/locations/us-central1/services/${name}`,
    serviceAccount: SA,
    ingress: "all",
    invokerIamDisabled: false,
    iapEnabled: false,
    env: [],
    secrets: [],
    labels: {},
    ...overrides,
  };
}

function input(
  services: AnalyzedService[],
  policies: Record<string, Policy> = {},
  extra: Partial<AnalysisInput> = {},
): AnalysisInput {
  return {
    projectId: P,
    projectNumber: "123456789012",
    services,
    policies: new Map(Object.entries(policies)),
    serviceAccounts: [],
    secrets: [],
    groups: [],
    ...extra,
  };
}

const ids = (i: AnalysisInput) => analyze(i).map((f) => f.ruleId);
const SVC = `projects/${P}/locations/us-central1/services/api`;
const invokers = (...members: string[]): Policy => ({ bindings: [{ role: "roles/run.invoker", members }] });

const cases: Array<[string, string, AnalysisInput, AnalysisInput]> = [
  [
    "RG-RUN-001",
    "default compute service account",
    input([service({ serviceAccount: "123456789012-compute@developer.gserviceaccount.com" })]),
    input([service()]),
  ],
  [
    "RG-RUN-002",
    "runtime account with Editor",
    input([service()], {
      [`projects/${P}`]: { bindings: [{ role: "roles/editor", members: [`serviceAccount:${SA}`] }] },
    }),
    input([service()], {
      [`projects/${P}`]: { bindings: [{ role: "roles/cloudsql.client", members: [`serviceAccount:${SA}`] }] },
    }),
  ],
  [
    "RG-SEC-001",
    "password in a plain env var",
    input([service({ env: [{ name: "DB_PASSWORD", value: "hunter2hunter2" }] })]),
    input([service({ env: [{ name: "LOG_LEVEL", value: "debug" }] })]),
  ],
  [
    "RG-SEC-001",
    "known token format under an innocent name",
    input([service({ env: [{ name: "CONFIG", value: "ghp_abcdefghijklmnopqrstuvwxyz0123456789" }] })]),
    input([service({ env: [{ name: "CONFIG", value: "us-central1" }] })]),
  ],
  [
    "RG-SEC-001",
    "high-entropy value",
    input([service({ env: [{ name: "X", value: "q8Zt2LmP9vRw4KxN7bYc1FhJ6dGs3A" }] })]),
    input([service({ env: [{ name: "X", value: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }] })]),
  ],
  [
    "RG-NET-001",
    "internal ingress with allUsers",
    input([service({ ingress: "internal" })], { [SVC]: invokers("allUsers") }),
    input([service({ ingress: "internal" })], { [SVC]: invokers(`serviceAccount:${SA}`) }),
  ],
  [
    "RG-NET-001",
    "internal ingress with the invoker check disabled",
    input([service({ ingress: "internal", invokerIamDisabled: true })]),
    input([service({ ingress: "internal" })]),
  ],
  [
    "RG-RUN-003",
    "public service only service accounts call",
    input(
      [service()],
      { [SVC]: invokers("allUsers") },
      { callers: new Map([[SVC, new Set([`serviceAccount:caller@${P}.iam.gserviceaccount.com`])]]) },
    ),
    input([service()], { [SVC]: invokers("allUsers") }, { callers: new Map([[SVC, new Set(["allUsers"])]]) }),
  ],
  [
    "RG-RUN-004",
    "public service with no sign it is meant to be public",
    input([service()], { [SVC]: invokers("allUsers") }, { callers: new Map([[SVC, new Set(["allUsers"])]]) }),
    input([service({ labels: { public: "website" } })], { [SVC]: invokers("allUsers") }),
  ],
  [
    "RG-IAM-001",
    "project-wide admin role on a service account",
    input([], { [`projects/${P}`]: { bindings: [{ role: "roles/run.admin", members: [`serviceAccount:${SA}`] }] } }),
    input([], { [`projects/${P}`]: { bindings: [{ role: "roles/run.admin", members: ["user:alice@example.com"] }] } }),
  ],
  [
    "RG-IAM-002",
    "secret accessor on the project",
    input([], {
      [`projects/${P}`]: {
        bindings: [{ role: "roles/secretmanager.secretAccessor", members: [`serviceAccount:${SA}`] }],
      },
    }),
    input([], {
      [`projects/${P}/secrets/db`]: {
        bindings: [{ role: "roles/secretmanager.secretAccessor", members: [`serviceAccount:${SA}`] }],
      },
    }),
  ],
  [
    "RG-IAM-003",
    "user-managed keys",
    input([service()], {}, { serviceAccounts: [{ email: SA, userManagedKeys: 1 }] }),
    input([service()], {}, { serviceAccounts: [{ email: SA, userManagedKeys: 0 }] }),
  ],
  [
    "RG-SEC-002",
    "latest in production",
    input([
      service({
        labels: { env: "production" },
        secrets: [{ kind: "env", target: "DB", secret: "db", version: "latest", field: "" }],
      }),
    ]),
    input([
      service({
        labels: { env: "production" },
        secrets: [{ kind: "env", target: "DB", secret: "db", version: "3", field: "" }],
      }),
    ]),
  ],
  [
    "RG-S2S-001",
    "key file for service calls",
    input([service({ env: [{ name: "GOOGLE_APPLICATION_CREDENTIALS", value: "/secrets/key.json" }] })]),
    input([service({ env: [{ name: "TARGET", value: "https://b-1.us-central1.run.app" }] })]),
  ],
  [
    "RG-S2S-001",
    "API key next to a run.app URL",
    input([
      service({
        env: [
          { name: "TARGET", value: "https://b-1.us-central1.run.app" },
          { name: "B_API_KEY", value: "k" },
        ],
      }),
    ]),
    input([service({ env: [{ name: "B_API_KEY", value: "k" }] })]),
  ],
  [
    "RG-IAP-002",
    "IAP agent without invoker",
    input([service({ iapEnabled: true })]),
    input([service({ iapEnabled: true })], {
      [SVC]: invokers("serviceAccount:service-123456789012@gcp-sa-iap.iam.gserviceaccount.com"),
    }),
  ],
  [
    "RG-IAP-002",
    "IAP agent without invoker, IAP on the load balancer",
    input([service()], {}, { iapBackends: [{ name: "be", iapEnabled: true, services: ["api"] }] }),
    input([service()], {}, { iapBackends: [{ name: "be", iapEnabled: false, services: ["api"] }] }),
  ],
  [
    "RG-IAP-001",
    "run.app bypasses IAP on the load balancer",
    input([service()], {}, { iapBackends: [{ name: "be", iapEnabled: true, services: ["api"] }] }),
    input(
      [service({ ingress: "internal-and-cloud-load-balancing" })],
      {},
      {
        iapBackends: [{ name: "be", iapEnabled: true, services: ["api"] }],
      },
    ),
  ],
  [
    "RG-IAP-003",
    "IAP on both the service and the load balancer",
    input([service({ iapEnabled: true })], {}, { iapBackends: [{ name: "be", iapEnabled: true, services: ["api"] }] }),
    input([service({ iapEnabled: true })], {}, { iapBackends: [{ name: "be", iapEnabled: false, services: ["api"] }] }),
  ],
  [
    "RG-IAM-004",
    "unused grant",
    input(
      [],
      { [`projects/${P}`]: { bindings: [{ role: "roles/cloudsql.client", members: [`serviceAccount:${SA}`] }] } },
      { exercised: [] },
    ),
    input(
      [],
      { [`projects/${P}`]: { bindings: [{ role: "roles/cloudsql.client", members: [`serviceAccount:${SA}`] }] } },
      {
        exercised: [
          { principal: `serviceAccount:${SA}`, permission: "cloudsql.instances.connect", resource: `projects/${P}` },
          { principal: `serviceAccount:${SA}`, permission: "cloudsql.instances.get", resource: `projects/${P}` },
        ],
      },
    ),
  ],
];

describe("analyzer rules", () => {
  for (const [rule, name, positive, negative] of cases) {
    it(`${rule}: ${name}`, () => {
      assert.ok(ids(positive).includes(rule), `expected ${rule} in ${JSON.stringify(analyze(positive), null, 1)}`);
      assert.ok(!ids(negative).includes(rule), `did not expect ${rule}`);
    });
  }

  it("RG-IAM-004 suggests the narrowest role that covers what was used", () => {
    const findings = analyze(
      input(
        [],
        { [`projects/${P}`]: { bindings: [{ role: "roles/run.developer", members: [`serviceAccount:${SA}`] }] } },
        {
          exercised: [
            {
              principal: `serviceAccount:${SA}`,
              permission: "run.routes.invoke",
              resource: `projects/${P}/locations/us-central1/services/b`,
            },
          ],
        },
      ),
    );
    const narrowed = findings.find((f) => f.ruleId === "RG-IAM-004");
    assert.match(narrowed?.fix[0] ?? "", /replace roles\/run\.developer with roles\/run\.servicesInvoker/);
  });

  it("RG-RUN-004 says how to silence it, and leaves what RG-RUN-003 and RG-NET-001 report to them", () => {
    const found = analyze(input([service()], { [SVC]: invokers("allUsers") })).find((f) => f.ruleId === "RG-RUN-004");
    assert.equal(found?.severity, "low");
    assert.ok(
      found?.fix.includes("gcloud run services update api --region=us-central1 --update-labels=public=true"),
      JSON.stringify(found?.fix),
    );
    assert.ok(
      !ids(input([service({ labels: { public: "true" } })], { [SVC]: invokers("allUsers") })).includes("RG-RUN-004"),
    );
    assert.ok(
      ids(input([service({ labels: { public: "false" } })], { [SVC]: invokers("allUsers") })).includes("RG-RUN-004"),
    );
    const onlyServices = { callers: new Map([[SVC, new Set([`serviceAccount:caller@${P}.iam.gserviceaccount.com`])]]) };
    assert.deepEqual(
      ids(input([service()], { [SVC]: invokers("allUsers") }, onlyServices)).filter((id) => id.startsWith("RG-RUN-00")),
      ["RG-RUN-003"],
    );
    assert.ok(!ids(input([service({ ingress: "internal" })], { [SVC]: invokers("allUsers") })).includes("RG-RUN-004"));
  });

  it("RG-IAM-004 proposes the remove command of the resource the grant is on", () => {
    const member = `serviceAccount:${SA}`;
    const grants: Record<string, Policy> = {
      [`projects/${P}`]: { bindings: [{ role: "roles/cloudsql.client", members: [member] }] },
      [SVC]: { bindings: [{ role: "roles/run.invoker", members: [member] }] },
      [`projects/${P}/secrets/db`]: { bindings: [{ role: "roles/secretmanager.secretAccessor", members: [member] }] },
      [`projects/${P}/serviceAccounts/${SA}`]: {
        bindings: [{ role: "roles/iam.serviceAccountUser", members: ["user:alice@example.com"] }],
      },
    };
    const fixes = analyze(input([], grants, { exercised: [] }))
      .filter((f) => f.ruleId === "RG-IAM-004")
      .map((f) => f.fix.at(-1))
      .sort();
    assert.deepEqual(fixes, [
      `gcloud iam service-accounts remove-iam-policy-binding ${SA} --project=${P} --member=user:alice@example.com --role=roles/iam.serviceAccountUser`,
      `gcloud projects remove-iam-policy-binding ${P} --member=${member} --role=roles/cloudsql.client`,
      `gcloud run services remove-iam-policy-binding api --region=us-central1 --project=${P} --member=${member} --role=roles/run.invoker`,
      `gcloud secrets remove-iam-policy-binding db --project=${P} --member=${member} --role=roles/secretmanager.secretAccessor`,
    ]);
  });

  it("never shows a secret's value in a finding", () => {
    const findings = analyze(
      input([service({ env: [{ name: "API_TOKEN", value: "sk_live_abcdefghijklmnopqrstuv" }] })]),
    );
    assert.ok(findings.length > 0);
    assert.ok(!JSON.stringify(findings).includes("sk_live_abcdefghijklmnopqrstuv"));
  });
});
