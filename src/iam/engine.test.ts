import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createPolicyEngine } from "./engine.js";
import { fixedClock } from "../core/clock.js";
import type { Principal } from "./types.js";

const P = "projects/p";
const SVC = "projects/p/locations/us-central1/services/api";
const alice: Principal = { kind: "user", email: "alice@example.com" };
const bob: Principal = { kind: "user", email: "bob@other.org" };
const sa: Principal = { kind: "serviceAccount", email: "caller@p.iam.gserviceaccount.com" };
const nobody: Principal = { kind: "anonymous" };

function engineWith(bindings: Array<{ resource: string; role: string; members: string[]; expression?: string }>) {
  const clock = fixedClock(Date.parse("2026-06-01T00:00:00Z"));
  const engine = createPolicyEngine({ clock });
  const byResource = new Map<string, Array<{ role: string; members: string[]; condition?: { expression: string } }>>();
  for (const b of bindings) {
    const list = byResource.get(b.resource) ?? [];
    list.push({
      role: b.role,
      members: b.members,
      ...(b.expression ? { condition: { expression: b.expression } } : {}),
    });
    byResource.set(b.resource, list);
  }
  for (const [resource, list] of byResource) engine.setPolicy(resource, { version: 3, bindings: list });
  return { engine, clock };
}

describe("policy engine decisions", () => {
  const cases: Array<
    [
      string,
      Array<{ resource: string; role: string; members: string[]; expression?: string }>,
      Principal,
      string,
      boolean,
      string?,
    ]
  > = [
    [
      "user binding on the service",
      [{ resource: SVC, role: "roles/run.invoker", members: ["user:alice@example.com"] }],
      alice,
      "run.routes.invoke",
      true,
      "direct",
    ],
    [
      "other user is denied",
      [{ resource: SVC, role: "roles/run.invoker", members: ["user:alice@example.com"] }],
      bob,
      "run.routes.invoke",
      false,
    ],
    [
      "emails compare case-insensitively",
      [{ resource: SVC, role: "roles/run.invoker", members: ["user:alice@example.com"] }],
      { kind: "user", email: "Alice@Example.com" },
      "run.routes.invoke",
      true,
    ],
    [
      "service account binding",
      [{ resource: SVC, role: "roles/run.invoker", members: ["serviceAccount:caller@p.iam.gserviceaccount.com"] }],
      sa,
      "run.routes.invoke",
      true,
    ],
    [
      "project binding is inherited",
      [{ resource: P, role: "roles/run.invoker", members: ["serviceAccount:caller@p.iam.gserviceaccount.com"] }],
      sa,
      "run.routes.invoke",
      true,
    ],
    [
      "a binding on another service does not apply",
      [
        {
          resource: "projects/p/locations/us-central1/services/other",
          role: "roles/run.invoker",
          members: ["user:alice@example.com"],
        },
      ],
      alice,
      "run.routes.invoke",
      false,
    ],
    [
      "allUsers admits anonymous callers",
      [{ resource: SVC, role: "roles/run.invoker", members: ["allUsers"] }],
      nobody,
      "run.routes.invoke",
      true,
      "allUsers",
    ],
    [
      "allAuthenticatedUsers excludes anonymous",
      [{ resource: SVC, role: "roles/run.invoker", members: ["allAuthenticatedUsers"] }],
      nobody,
      "run.routes.invoke",
      false,
    ],
    [
      "allAuthenticatedUsers admits a service account",
      [{ resource: SVC, role: "roles/run.invoker", members: ["allAuthenticatedUsers"] }],
      sa,
      "run.routes.invoke",
      true,
      "allAuthenticatedUsers",
    ],
    [
      "domain matches a user of the domain",
      [{ resource: SVC, role: "roles/run.invoker", members: ["domain:example.com"] }],
      alice,
      "run.routes.invoke",
      true,
      "domain",
    ],
    [
      "domain does not match other domains",
      [{ resource: SVC, role: "roles/run.invoker", members: ["domain:example.com"] }],
      bob,
      "run.routes.invoke",
      false,
    ],
    [
      "domain never matches service accounts",
      [{ resource: SVC, role: "roles/run.invoker", members: ["domain:p.iam.gserviceaccount.com"] }],
      sa,
      "run.routes.invoke",
      false,
    ],
    [
      "deleted members never match",
      [{ resource: SVC, role: "roles/run.invoker", members: ["deleted:user:alice@example.com?uid=123"] }],
      alice,
      "run.routes.invoke",
      false,
    ],
    [
      "editor may invoke",
      [{ resource: P, role: "roles/editor", members: ["user:alice@example.com"] }],
      alice,
      "run.routes.invoke",
      true,
    ],
    [
      "editor cannot read secret payloads",
      [{ resource: P, role: "roles/editor", members: ["user:alice@example.com"] }],
      alice,
      "secretmanager.versions.access",
      false,
    ],
    [
      "viewer cannot invoke",
      [{ resource: P, role: "roles/viewer", members: ["user:alice@example.com"] }],
      alice,
      "run.routes.invoke",
      false,
    ],
    [
      "owner cannot mint ID tokens",
      [{ resource: P, role: "roles/owner", members: ["user:alice@example.com"] }],
      alice,
      "iam.serviceAccounts.getOpenIdToken",
      false,
    ],
    [
      "secret version uses the secret's policy",
      [
        {
          resource: "projects/p/secrets/db",
          role: "roles/secretmanager.secretAccessor",
          members: ["user:alice@example.com"],
        },
      ],
      alice,
      "secretmanager.versions.access",
      true,
    ],
    [
      "time condition in the future grants",
      [
        {
          resource: SVC,
          role: "roles/run.invoker",
          members: ["user:alice@example.com"],
          expression: 'request.time < timestamp("2027-01-01T00:00:00Z")',
        },
      ],
      alice,
      "run.routes.invoke",
      true,
    ],
    [
      "expired time condition denies",
      [
        {
          resource: SVC,
          role: "roles/run.invoker",
          members: ["user:alice@example.com"],
          expression: 'request.time < timestamp("2026-01-01T00:00:00Z")',
        },
      ],
      alice,
      "run.routes.invoke",
      false,
    ],
    [
      "resource.name condition narrows a project binding",
      [
        {
          resource: P,
          role: "roles/run.invoker",
          members: ["user:alice@example.com"],
          expression: 'resource.name.endsWith("/services/other")',
        },
      ],
      alice,
      "run.routes.invoke",
      false,
    ],
    [
      "a condition that fails to evaluate grants nothing",
      [
        {
          resource: SVC,
          role: "roles/run.invoker",
          members: ["user:alice@example.com"],
          expression: "resource.nosuch.field == 1",
        },
      ],
      alice,
      "run.routes.invoke",
      false,
    ],
  ];
  for (const [name, bindings, principal, permission, allowed, via] of cases) {
    it(name, () => {
      const { engine } = engineWith(bindings);
      const decision = engine.decide(
        principal,
        permission,
        name.includes("secret version") ? "projects/p/secrets/db/versions/3" : SVC,
      );
      assert.equal(decision.allowed, allowed);
      if (via) assert.equal(decision.grant?.via, via);
    });
  }
});

describe("groups", () => {
  it("nested groups grant through the chain, and cycles terminate", () => {
    const { engine } = engineWith([{ resource: SVC, role: "roles/run.invoker", members: ["group:outer@example.com"] }]);
    engine.setGroup("outer@example.com", { email: "outer@example.com", members: ["group:inner@example.com"] });
    engine.setGroup("inner@example.com", {
      email: "inner@example.com",
      members: ["user:alice@example.com", "group:outer@example.com"],
    });
    const decision = engine.decide(alice, "run.routes.invoke", SVC);
    assert.equal(decision.allowed, true);
    assert.equal(decision.grant?.via, "group:inner@example.com -> group:outer@example.com");
    engine.setGroup("inner@example.com", { email: "inner@example.com", members: [] });
    assert.equal(
      engine.decide(alice, "run.routes.invoke", SVC).allowed,
      false,
      "membership changes take effect at once",
    );
  });

  it("policy changes take effect on the next decision", () => {
    const { engine } = engineWith([{ resource: SVC, role: "roles/run.invoker", members: ["user:alice@example.com"] }]);
    assert.equal(engine.decide(alice, "run.routes.invoke", SVC).allowed, true);
    engine.setPolicy(SVC, undefined);
    assert.equal(engine.decide(alice, "run.routes.invoke", SVC).allowed, false);
  });
});

describe("explain and who-can", () => {
  it("lists every binding considered and how the principal matched", () => {
    const { engine } = engineWith([
      { resource: SVC, role: "roles/run.viewer", members: ["user:alice@example.com"] },
      { resource: P, role: "roles/run.invoker", members: ["domain:example.com"] },
    ]);
    const e = engine.explain(alice, "run.routes.invoke", SVC);
    assert.equal(e.allowed, true);
    assert.deepEqual(
      e.policies.map((p) => p.resource),
      [SVC, P],
    );
    assert.deepEqual(e.policies[0]?.bindings[0], {
      role: "roles/run.viewer",
      members: ["user:alice@example.com"],
      roleHasPermission: false,
      matchedMember: "user:alice@example.com",
      via: "direct",
    });
    assert.equal(e.grant?.member, "domain:example.com");
    assert.equal(e.grant?.resource, P);
  });

  it("who-can expands groups and names the binding", () => {
    const { engine } = engineWith([
      { resource: SVC, role: "roles/run.invoker", members: ["group:team@example.com", "allUsers"] },
    ]);
    engine.setGroup("team@example.com", { email: "team@example.com", members: ["user:alice@example.com"] });
    const holders = engine.whoCan("run.routes.invoke", SVC);
    assert.deepEqual(
      holders.map((h) => [h.member, h.grant.via]),
      [
        ["group:team@example.com", "direct"],
        ["user:alice@example.com", "group:team@example.com"],
        ["allUsers", "direct"],
      ],
    );
  });
});
