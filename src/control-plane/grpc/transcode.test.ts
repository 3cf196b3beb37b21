import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { googleProtos } from "./protos.js";
import { httpBindingsOf, transcode } from "./transcode.js";

const bindingsOf = (service: string, method: string) => {
  const found = googleProtos().lookupService(service).methods[method];
  assert.ok(found);
  return httpBindingsOf(found);
};
const SECRETS = "google.cloud.secretmanager.v1.SecretManagerService";

describe("transcode (google.api.http)", () => {
  it("binds path variables, sends the body field, and the rest as query parameters", () => {
    const call = transcode(bindingsOf(SECRETS, "CreateSecret"), {
      parent: "projects/p",
      secretId: "s",
      secret: { replication: { automatic: {} }, labels: { a: "b" } },
    });
    assert.equal(call.method, "POST");
    assert.equal(call.pathname, "/v1/projects/p/secrets");
    assert.equal(call.query.toString(), "secretId=s");
    assert.deepEqual(call.body, { replication: { automatic: {} }, labels: { a: "b" } });
  });

  it("picks the additional binding a name fits, and flattens nested and repeated query fields", () => {
    const access = transcode(bindingsOf(SECRETS, "AccessSecretVersion"), {
      name: "projects/p/locations/us/secrets/s/versions/1",
    });
    assert.equal(access.pathname, "/v1/projects/p/locations/us/secrets/s/versions/1:access");
    const list = transcode(bindingsOf("google.cloud.run.v2.Services", "ListServices"), {
      parent: "projects/p/locations/us-central1",
      pageSize: 3,
      nested: { a: "x", list: ["1", "2"] },
    });
    assert.equal(list.method, "GET");
    assert.equal(list.query.toString(), "pageSize=3&nested.a=x&nested.list=1&nested.list=2");
  });

  it("sends everything unbound for body '*', and escapes each path segment", () => {
    const call = transcode(bindingsOf("google.iam.credentials.v1.IAMCredentials", "GenerateAccessToken"), {
      name: "projects/-/serviceAccounts/a b@x.iam.gserviceaccount.com",
      scope: ["s"],
    });
    assert.equal(call.pathname, "/v1/projects/-/serviceAccounts/a%20b%40x.iam.gserviceaccount.com:generateAccessToken");
    assert.deepEqual(call.body, { scope: ["s"] });
  });

  it("refuses a name no binding fits with INVALID_ARGUMENT", () => {
    assert.throws(() => transcode(bindingsOf(SECRETS, "GetSecret"), { name: "secrets/x/../y" }), {
      status: "INVALID_ARGUMENT",
    });
    assert.throws(() => transcode(bindingsOf(SECRETS, "GetSecret"), {}), { status: "INVALID_ARGUMENT" });
  });
});
