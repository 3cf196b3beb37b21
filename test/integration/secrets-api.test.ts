// Bad input to Secret Manager gets Google's errors and stores nothing; payloads are only ever stored sealed.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { crc32cOf } from "../../src/secrets/secret-manager.js";

describe("Secret Manager API", () => {
  let rg: TestRunguard;
  const call = async (method: string, path: string, body?: unknown) => {
    const token = await rg.accessTokenFor(`user:${OWNER}`);
    const response = await fetch(`${rg.endpoints.api}/v1/projects/${PROJECT}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // Google's JSON, read field by field in the assertions below.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, json: (await response.json()) as Record<string, any> };
  };
  const b64 = (text: string | Buffer) => Buffer.from(text).toString("base64");

  before(async () => {
    rg = await startTestRunguard();
    assert.equal((await call("POST", "/secrets?secretId=api-key", { replication: { automatic: {} } })).status, 200);
  });
  after(async () => rg.stop());

  it("rejects bad secret ids and a missing replication", async () => {
    for (const id of ["has/slash", "has.dot", "a".repeat(256), ""]) {
      const result = await call("POST", `/secrets?secretId=${encodeURIComponent(id)}`, {
        replication: { automatic: {} },
      });
      assert.equal(result.status, 400, id);
      assert.equal(result.json["error"].status, "INVALID_ARGUMENT");
    }
    assert.equal((await call("POST", "/secrets?secretId=no-replication", {})).status, 400);
    assert.equal((await call("GET", "/secrets")).json["secrets"].length, 1);
  });

  it("rejects empty, oversized, non-base64 and wrongly checksummed payloads; stores nothing", async () => {
    const cases: Array<[string, unknown]> = [
      ["empty", { data: "" }],
      ["oversized", { data: b64(Buffer.alloc(65537, 1)) }],
      ["not base64", { data: "!!!" }],
      ["wrong crc", { data: b64("value"), dataCrc32c: "12345" }],
    ];
    for (const [name, payload] of cases) {
      const result = await call("POST", "/secrets/api-key:addVersion", { payload });
      assert.equal(result.status, 400, name);
    }
    assert.deepEqual((await call("GET", "/secrets/api-key/versions")).json, {});
  });

  it("accepts the largest payload, returns its CRC32C, and names versions by project number", async () => {
    const data = Buffer.alloc(65536, 7);
    const added = await call("POST", "/secrets/api-key:addVersion", {
      payload: { data: b64(data), dataCrc32c: crc32cOf(data) },
    });
    assert.equal(added.status, 200);
    assert.equal(added.json["name"], `projects/${rg.endpoints.projectNumber}/secrets/api-key/versions/1`);
    assert.equal(added.json["clientSpecifiedPayloadChecksum"], true);
    const accessed = await call("GET", "/secrets/api-key/versions/latest:access");
    assert.equal(accessed.json["payload"].dataCrc32c, crc32cOf(data));
    assert.equal(Buffer.from(accessed.json["payload"].data, "base64").equals(data), true);
  });

  it("unknown versions are 404, testIamPermissions on a missing secret is empty", async () => {
    assert.equal((await call("GET", "/secrets/api-key/versions/7:access")).status, 404);
    assert.equal((await call("GET", "/secrets/api-key/versions/x1:access")).status, 400);
    assert.deepEqual(
      (await call("POST", "/secrets/nosuch:testIamPermissions", { permissions: ["secretmanager.versions.access"] }))
        .json,
      {},
    );
  });

  it("keeps the key-encryption key outside the database, in a 0600 file", async () => {
    const kek = join(rg.dataDir, "keys", "secrets.kek");
    assert.equal(statSync(kek).mode & 0o777, 0o600);
    const key = readFileSync(kek, "utf8");
    assert.equal(readFileSync(join(rg.dataDir, "runguard.db")).includes(key), false);
  });
});
