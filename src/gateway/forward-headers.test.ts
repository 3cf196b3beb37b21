// What an instance receives: never a header only Google's infrastructure sets, X-Serverless-Authorization only
// as checked, and behind IAP the Cookie header without IAP's cookies and IAP's identity headers last.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHeaderRewriter } from "./forward-headers.js";
import { clientRawHeaders, isClientForbidden } from "./client-headers.js";

const pairs = (flat: string[]) => {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
  return out;
};

describe("headers clients may not send", () => {
  it("drops IAP's identity headers always and X-Serverless-Authorization behind a proxy, in a new list", () => {
    const raw = ["Host", "a", "X-Goog-IAP-JWT-Assertion", "forged", "X-Serverless-Authorization", "Bearer x"];
    assert.deepEqual(clientRawHeaders(raw, false), ["Host", "a", "X-Serverless-Authorization", "Bearer x"]);
    assert.deepEqual(clientRawHeaders(raw, true), ["Host", "a"]);
    assert.equal(raw.length, 6, "the request's own list is untouched");
    assert.equal(isClientForbidden("x-goog-authenticated-user-email", false), true);
    assert.equal(isClientForbidden("x-serverless-authorization", false), false);
  });

  it("forwards IAP's view: cookie filtered in place, checked agent token, identity headers last", () => {
    const rewrite = createHeaderRewriter();
    const out = pairs(
      rewrite(
        {
          accept: "*/*",
          cookie: "a=1; GCP_IAP_AUTH_TOKEN_1=s",
          "x-serverless-authorization": "Bearer client",
          "x-goog-authenticated-user-email": "accounts.google.com:mallory@example.com",
          "x-cloud-trace-context": "t",
        },
        {
          clientIp: "10.0.0.1",
          host: "app.run.app",
          checked: { header: "x-serverless-authorization", value: "bearer agent.SIGNATURE_REMOVED_BY_GOOGLE" },
          dropServerlessAuthorization: false,
          behindProxy: true,
          iap: { cookie: "a=1", identityHeaders: { "x-goog-authenticated-user-email": "accounts.google.com:a@b" } },
        },
      ),
    );
    assert.deepEqual(out, [
      ["accept", "*/*"],
      ["cookie", "a=1"],
      ["x-cloud-trace-context", "t"],
      ["x-serverless-authorization", "bearer agent.SIGNATURE_REMOVED_BY_GOOGLE"],
      ["host", "app.run.app"],
      ["x-forwarded-for", "10.0.0.1"],
      ["x-forwarded-proto", "https"],
      ["forwarded", 'for="10.0.0.1";proto=https'],
      ["x-goog-authenticated-user-email", "accounts.google.com:a@b"],
    ]);
  });

  it("a client's X-Serverless-Authorization reaches a private service's app only outside the load balancer", () => {
    const rewrite = createHeaderRewriter();
    const names = (behindProxy: boolean) =>
      pairs(
        rewrite(
          { "x-serverless-authorization": "Bearer other", "x-cloud-trace-context": "t" },
          { clientIp: "", host: "h", dropServerlessAuthorization: false, behindProxy },
        ),
      ).map(([name]) => name);
    assert.ok(names(false).includes("x-serverless-authorization"));
    assert.ok(!names(true).includes("x-serverless-authorization"));
  });
});
