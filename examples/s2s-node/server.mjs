// A Cloud Run service (Node) that calls a private service with google-auth-library, unchanged:
// getIdTokenClient(targetUrl) fetches an ID token for its own service account from the metadata server.
import { createServer } from "node:http";
import { GoogleAuth } from "google-auth-library";

const auth = new GoogleAuth();

createServer(async (req, res) => {
  const target = new URL(req.url, "http://x").searchParams.get("target") ?? "";
  let result;
  try {
    const client = await auth.getIdTokenClient(target);
    const response = await client.request({ url: target, method: "POST", data: { from: process.env.K_SERVICE } });
    result = { ok: true, response: response.data };
  } catch (error) {
    result = error.response ? { ok: false, status: error.response.status } : { ok: false, error: String(error) };
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(result));
}).listen(Number(process.env.PORT), "127.0.0.1");
