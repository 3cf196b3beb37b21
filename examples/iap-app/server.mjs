// An application behind IAP that verifies who is calling the way Google documents it, unchanged: the signed
// header X-Goog-IAP-JWT-Assertion, checked with google-auth-library (OAuth2Client.getIapPublicKeys, which
// fetches https://www.gstatic.com/iap/verify/public_key) and again with jose (the JWK set at
// .../public_key-jwk). IAP_AUDIENCE is /projects/NUMBER/global/backendServices/ID. Without a valid assertion
// (a request that bypassed IAP, or a forged or replayed header) it answers 401.
import { createServer } from "node:http";
import { OAuth2Client } from "google-auth-library";
import { createLocalJWKSet, jwtVerify } from "jose";
import { EnvHttpProxyAgent, request } from "undici";

const audience = process.env.IAP_AUDIENCE ?? "";
const issuer = "https://cloud.google.com/iap";
const oauth = new OAuth2Client();
const dispatcher = new EnvHttpProxyAgent();

async function verifyWithGoogleAuthLibrary(assertion) {
  const { pubkeys } = await oauth.getIapPublicKeys();
  const ticket = await oauth.verifySignedJwtWithCertsAsync(assertion, pubkeys, audience, [issuer]);
  return ticket.getPayload().email;
}

async function verifyWithJose(assertion) {
  const response = await request("https://www.gstatic.com/iap/verify/public_key-jwk", { dispatcher });
  const keys = createLocalJWKSet(await response.body.json());
  const { payload } = await jwtVerify(assertion, keys, { issuer, audience, algorithms: ["ES256"] });
  return payload.email;
}

createServer(async (req, res) => {
  const assertion = req.headers["x-goog-iap-jwt-assertion"];
  let email;
  try {
    if (typeof assertion !== "string") throw new Error("no IAP assertion");
    const [byLibrary, byJose] = await Promise.all([verifyWithGoogleAuthLibrary(assertion), verifyWithJose(assertion)]);
    if (byLibrary !== byJose) throw new Error("the two verifications disagree");
    email = byLibrary;
  } catch (error) {
    res.writeHead(401, { "content-type": "text/plain" });
    return res.end(`Unverified request: ${error.message}\n`);
  }
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(
    `<!DOCTYPE html><title>IAP app</title><h1 id="hello">Hello ${email}</h1>` +
      `<p id="verified">assertion verified with google-auth-library and jose</p>` +
      `<pre id="cookies">${(req.headers.cookie ?? "").replace(/[<&]/g, "")}</pre>`,
  );
}).listen(Number(process.env.PORT), "127.0.0.1");
