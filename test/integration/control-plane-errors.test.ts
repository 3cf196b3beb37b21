// Bad input to the control plane gets Google's error shapes and leaves the store untouched.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";

interface GoogleError {
  error: { code: number; message: string; status: string };
}

describe("control-plane errors", () => {
  let rg: TestRunguard;
  let token: string;
  const call = async (method: string, path: string, body?: string | object, auth = true) => {
    const response = await fetch(`${rg.endpoints.api}${path}`, {
      method,
      headers: {
        ...(auth ? { authorization: `Bearer ${token}` } : {}),
        "content-type": "application/json",
      },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as GoogleError & Record<string, unknown> };
  };

  before(async () => {
    rg = await startTestRunguard();
    token = await rg.accessTokenFor(`user:${OWNER}`);
  });
  after(async () => rg.stop());

  it("401 UNAUTHENTICATED without a token, and with a garbage or ID token", async () => {
    const none = await call("GET", `/v1/projects/${PROJECT}/serviceAccounts`, undefined, false);
    assert.equal(none.status, 401);
    assert.equal(none.json.error.status, "UNAUTHENTICATED");
    assert.match(none.json.error.message, /^Request is missing required authentication credential/);
    const saved = token;
    token = "ya29.garbage";
    const garbage = await call("GET", `/v1/projects/${PROJECT}/serviceAccounts`);
    assert.equal(garbage.status, 401);
    assert.match(garbage.json.error.message, /^Request had invalid authentication credentials/);
    token = saved;
  });

  it("400 for malformed JSON and oversized bodies; nothing is created", async () => {
    const bad = await call("POST", `/v1/projects/${PROJECT}/serviceAccounts`, "{not json");
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.status, "INVALID_ARGUMENT");
    assert.match(bad.json.error.message, /Invalid JSON payload received/);
    const huge = await call("POST", `/v1/projects/${PROJECT}/serviceAccounts`, {
      accountId: "huge-sa",
      serviceAccount: { displayName: "x".repeat(2 * 1024 * 1024) },
    });
    assert.equal(huge.status, 400);
    assert.match(huge.json.error.message, /Request payload size exceeds the limit/);
    const list = await call("GET", `/v1/projects/${PROJECT}/serviceAccounts`);
    assert.equal(JSON.stringify(list.json).includes("huge-sa"), false);
  });

  it("400 for an invalid account id, 404 for an unknown account", async () => {
    const badId = await call("POST", `/v1/projects/${PROJECT}/serviceAccounts`, { accountId: "A!" });
    assert.equal(badId.status, 400);
    const missing = await call("GET", `/v1/projects/-/serviceAccounts/nosuch@${PROJECT}.iam.gserviceaccount.com`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.status, "NOT_FOUND");
  });

  it("setIamPolicy: malformed members and unknown roles are 400, a stale etag is 409 ABORTED", async () => {
    const current = await call("POST", `/v1/projects/${PROJECT}:getIamPolicy`, {});
    const etag = current.json["etag"] as string;
    const bindings = current.json["bindings"] as unknown[];
    for (const bad of [
      { role: "roles/viewer", members: ["alice@example.com"] },
      { role: "roles/viewer", members: ["user:"] },
      { role: "roles/not-a-role", members: ["user:alice@example.com"] },
      { role: "roles/viewer", members: [] },
    ]) {
      const result = await call("POST", `/v1/projects/${PROJECT}:setIamPolicy`, {
        policy: { etag, bindings: [...bindings, bad] },
      });
      assert.equal(result.status, 400, JSON.stringify(bad));
      assert.equal(result.json.error.status, "INVALID_ARGUMENT");
    }
    const ok = await call("POST", `/v1/projects/${PROJECT}:setIamPolicy`, {
      policy: { etag, bindings: [...bindings, { role: "roles/viewer", members: ["user:bob@example.com"] }] },
    });
    assert.equal(ok.status, 200);
    const stale = await call("POST", `/v1/projects/${PROJECT}:setIamPolicy`, { policy: { etag, bindings } });
    assert.equal(stale.status, 409);
    assert.equal(stale.json.error.status, "ABORTED");
    assert.match(
      stale.json.error.message,
      /^There were concurrent policy changes\. Please retry the whole read-modify-write with exponential backoff\. The request's ETag '.*' did not match the current policy's ETag '.*'\.$/,
    );
    const now = await call("POST", `/v1/projects/${PROJECT}:getIamPolicy`, {});
    assert.ok(JSON.stringify(now.json).includes("user:bob@example.com"), "the stale write changed nothing");
  });

  it("a project the caller cannot see is 403, as Google answers for unknown projects", async () => {
    const other = await call("POST", `/v1/projects/no-such-project:getIamPolicy`, {});
    assert.equal(other.status, 403);
    assert.equal(other.json.error.status, "PERMISSION_DENIED");
  });

  it("testIamPermissions answers the subset held and rejects wildcards", async () => {
    const held = await call("POST", `/v1/projects/${PROJECT}:testIamPermissions`, {
      permissions: ["resourcemanager.projects.setIamPolicy", "iam.serviceAccounts.getOpenIdToken"],
    });
    assert.deepEqual(held.json, { permissions: ["resourcemanager.projects.setIamPolicy"] });
    const wildcard = await call("POST", `/v1/projects/${PROJECT}:testIamPermissions`, { permissions: ["run.*"] });
    assert.equal(wildcard.status, 400);
  });

  it("unknown URLs are 404 in Google's JSON shape", async () => {
    const result = await call("GET", "/v1/nothing/here");
    assert.equal(result.status, 404);
    assert.equal(result.json.error.status, "NOT_FOUND");
  });
});
