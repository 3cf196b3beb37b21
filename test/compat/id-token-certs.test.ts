// runguard's /oauth2/v1/certs serves what Google's does: a self-signed X.509 certificate per signing key
// ({kid: PEM}), so the verifiers that read that URL by default accept runguard's ID tokens unchanged:
// google-auth-library's OAuth2Client.verifyIdToken and Python's google.oauth2.id_token (Cloud SDK's bundled
// Python and google-auth). /oauth2/v3/certs stays a JWK set.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { X509Certificate, createPublicKey } from "node:crypto";
import { promisify } from "node:util";
import { OAuth2Client } from "google-auth-library";
import { PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";

const run = promisify(execFile);
const SDK_PYTHON = "/usr/lib/google-cloud-sdk/platform/bundledpythonunix/bin/python3";
const SDK_LIBS = "/usr/lib/google-cloud-sdk/lib/third_party";
const AUDIENCE = "https://my-api-123456789012.us-central1.run.app";
const SA = `caller-sa@${PROJECT}.iam.gserviceaccount.com`;

const VERIFY_PY = `
import json, sys
from google.auth.transport import requests
from google.oauth2 import id_token
token, audience, certs_url = sys.argv[1:4]
print(json.dumps(id_token.verify_token(token, requests.Request(), audience=audience, certs_url=certs_url)))
`;

describe("/oauth2/v1/certs: X.509 certificates, as Google serves them", () => {
  let rg: TestRunguard;
  let certsUrl = "";
  let token = "";

  before(async () => {
    rg = await startTestRunguard();
    certsUrl = `${rg.endpoints.api}/oauth2/v1/certs`;
    token = await rg.idTokenFor(SA, AUDIENCE, "serviceAccount");
  });
  after(async () => rg.stop());

  it("serves one self-signed certificate per signing key, holding the key /oauth2/v3/certs publishes", async () => {
    const v1 = (await (await fetch(certsUrl)).json()) as Record<string, string>;
    const v3 = (await (await fetch(`${rg.endpoints.api}/oauth2/v3/certs`)).json()) as {
      keys: Array<{ kid: string; kty: string; n: string; e: string }>;
    };
    assert.deepEqual(Object.keys(v1).sort(), v3.keys.map((k) => k.kid).sort());
    for (const jwk of v3.keys) {
      const pem = v1[jwk.kid] ?? "";
      assert.match(pem, /^-----BEGIN CERTIFICATE-----\n/);
      const cert = new X509Certificate(pem);
      assert.equal(cert.subject, "CN=federated-signon.system.gserviceaccount.com");
      assert.equal(cert.issuer, cert.subject, "self-signed");
      assert.ok(cert.verify(cert.publicKey), "signed by its own key");
      const published = createPublicKey({ key: jwk as never, format: "jwk" });
      assert.ok(cert.publicKey.equals(published), "the certificate holds the JWKS key of the same kid");
    }
    const again = (await (await fetch(certsUrl)).json()) as Record<string, string>;
    assert.deepEqual(again, v1, "the same certificate on every fetch");
  });

  it("google-auth-library's OAuth2Client.verifyIdToken fetches them and accepts runguard's ID token", async () => {
    const client = new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: certsUrl } });
    const ticket = await client.verifyIdToken({ idToken: token, audience: AUDIENCE });
    assert.equal(ticket.getPayload()?.email, SA);
    await assert.rejects(
      client.verifyIdToken({ idToken: token, audience: "https://other.example" }),
      /Wrong recipient/,
    );
    const [header, payload] = token.split(".");
    await assert.rejects(
      client.verifyIdToken({ idToken: `${header}.${payload}.${"A".repeat(342)}`, audience: AUDIENCE }),
      /Invalid token signature/,
    );
  });

  it("Python's google.oauth2.id_token.verify_token accepts it with the v1 certificate URL", async () => {
    const { stdout } = await run(SDK_PYTHON, ["-c", VERIFY_PY, token, AUDIENCE, certsUrl], {
      env: { PATH: process.env["PATH"] ?? "", PYTHONPATH: SDK_LIBS },
      timeout: 60_000,
    });
    const claims = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(claims["email"], SA);
    assert.equal(claims["aud"], AUDIENCE);
    const wrong = await run(SDK_PYTHON, ["-c", VERIFY_PY, token, "https://other.example", certsUrl], {
      env: { PATH: process.env["PATH"] ?? "", PYTHONPATH: SDK_LIBS },
      timeout: 60_000,
    }).catch((error: { stderr: string }) => error);
    assert.match((wrong as { stderr: string }).stderr, /Token has wrong audience/);
  });
});
