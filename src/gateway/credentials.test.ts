// The per-connection memory must never answer for a header it did not see: any change in the credential
// headers of a later request on the same connection is parsed anew.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createCredentialReader, extractCredential } from "./credentials.js";

const TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";

describe("credential reader", () => {
  it("answers as extractCredential does, reusing the parse while a connection sends the same header", () => {
    const read = createCredentialReader();
    const connection = {};
    const headers = ["Host", "x", "Authorization", `Bearer ${TOKEN}`];
    const first = read(headers, connection);
    assert.deepEqual(first, extractCredential(headers));
    assert.deepEqual(first, {
      kind: "bearer",
      header: "authorization",
      scheme: "Bearer",
      token: TOKEN,
      forwardedValue: `Bearer ${TOKEN.slice(0, TOKEN.lastIndexOf(".") + 1)}SIGNATURE_REMOVED_BY_GOOGLE`,
    });
    assert.equal(read(["authorization", `Bearer ${TOKEN}`], connection), first, "same value, same result");
  });

  it("parses anew when the value, the header or the number of headers changes on the same connection", () => {
    const read = createCredentialReader();
    const connection = {};
    assert.equal(read(["Authorization", `Bearer ${TOKEN}`], connection).kind, "bearer");
    assert.deepEqual(read(["Authorization", `Bearer ${TOKEN} extra`], connection), {
      kind: "invalid",
      problem: "not-bearer",
    });
    assert.deepEqual(read(["Authorization", `Bearer ${TOKEN}`, "Authorization", `Bearer ${TOKEN}`], connection), {
      kind: "invalid",
      problem: "several-headers",
    });
    assert.deepEqual(read(["Host", "x"], connection), { kind: "none" });
    const serverless = read(["X-Serverless-Authorization", `Bearer ${TOKEN}`], connection);
    assert.equal(serverless.kind === "bearer" && serverless.header, "x-serverless-authorization");
    const plain = read(["Authorization", `Bearer ${TOKEN}`], connection);
    assert.equal(plain.kind === "bearer" && plain.header, "authorization");
  });

  it("keeps connections apart", () => {
    const read = createCredentialReader();
    const [one, two] = [{}, {}];
    assert.equal(read(["Authorization", `Bearer ${TOKEN}`], one).kind, "bearer");
    assert.deepEqual(read(["Authorization", "Basic dXNlcjpwYXNz"], two), { kind: "invalid", problem: "not-bearer" });
    assert.equal(read(["Authorization", `Bearer ${TOKEN}`], one).kind, "bearer");
  });
});
