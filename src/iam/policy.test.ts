import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { validatePolicy, policyForResponse } from "./policy.js";
import { ApiError } from "../core/errors.js";
import type { Policy } from "./types.js";

const invalid = (policy: Policy) => () =>
  assert.throws(
    () => validatePolicy(policy),
    (e: unknown) => e instanceof ApiError && e.status === "INVALID_ARGUMENT",
  );

describe("validatePolicy", () => {
  it("rejects an unknown role", invalid({ bindings: [{ role: "roles/nope", members: ["user:a@example.com"] }] }));
  it("rejects a binding without members", invalid({ bindings: [{ role: "roles/viewer", members: [] }] }));
  for (const member of [
    "a@example.com",
    "user:",
    "user:not-an-email",
    "robot:x@y.com",
    " user:a@example.com",
    "domain:",
    "allusers",
  ]) {
    it(
      `rejects the member ${JSON.stringify(member)}`,
      invalid({ bindings: [{ role: "roles/viewer", members: [member] }] }),
    );
  }
  it("rejects version 2", invalid({ version: 2 }));
  it(
    "rejects conditions below version 3",
    invalid({
      version: 1,
      bindings: [{ role: "roles/viewer", members: ["user:a@example.com"], condition: { expression: "true" } }],
    }),
  );
  it(
    "rejects a condition that is not CEL",
    invalid({
      version: 3,
      bindings: [{ role: "roles/viewer", members: ["user:a@example.com"], condition: { expression: "(((" } }],
    }),
  );
  it(
    "rejects more than 1500 members",
    invalid({
      bindings: [{ role: "roles/viewer", members: Array.from({ length: 1501 }, (_, i) => `user:u${i}@example.com`) }],
    }),
  );

  it("canonicalises members and keeps every member kind", () => {
    const members = [
      "user:Alice@Example.com",
      "serviceAccount:s@p.iam.gserviceaccount.com",
      "group:g@example.com",
      "domain:example.com",
      "allUsers",
      "allAuthenticatedUsers",
      "deleted:user:x@example.com?uid=1",
      "principal://iam.googleapis.com/locations/global/workforcePools/p/subject/s",
    ];
    const policy = validatePolicy({ bindings: [{ role: "roles/run.invoker", members }] });
    assert.equal(policy.version, 1);
    assert.equal(policy.bindings?.[0]?.members[0], "user:alice@example.com");
    assert.equal(policy.bindings?.[0]?.members.length, members.length);
  });

  it("answers version 1 without conditions and refuses to show conditional bindings below version 3", () => {
    const conditional: Policy = {
      version: 3,
      etag: "BwAAAA==",
      bindings: [{ role: "roles/viewer", members: ["user:a@example.com"], condition: { expression: "true" } }],
    };
    assert.equal(policyForResponse({ etag: "ACAB" }, 3).version, 1);
    assert.equal(policyForResponse(conditional, 3).version, 3);
    assert.throws(() => policyForResponse(conditional, 1));
  });
});
