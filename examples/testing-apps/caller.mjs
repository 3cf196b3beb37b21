// Service A: calls service B (?target=B's URL) with an ID token for B from its own metadata server, as a Cloud Run
// service does, and answers with what B answered. undici's EnvHttpProxyAgent follows HTTPS_PROXY where the
// instance has one (runguard without a network namespace per instance); elsewhere it connects by name.
import { createServer } from "node:http";
import { EnvHttpProxyAgent, request } from "undici";

const dispatcher = new EnvHttpProxyAgent();
const metadata = process.env.GCE_METADATA_HOST ?? "metadata.google.internal";

createServer(async (req, res) => {
  const target = new URL(req.url, "http://x").searchParams.get("target") ?? "";
  let answer;
  try {
    const identity = await fetch(
      `http://${metadata}/computeMetadata/v1/instance/service-accounts/default/identity?audience=${encodeURIComponent(target)}`,
      { headers: { "metadata-flavor": "Google" } },
    );
    const response = await request(target, {
      dispatcher,
      headers: { authorization: `Bearer ${await identity.text()}` },
    });
    answer = { status: response.statusCode, body: await response.body.text() };
  } catch (error) {
    answer = { error: String(error.code ?? error.message) };
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(answer));
}).listen(Number(process.env.PORT), "127.0.0.1");
