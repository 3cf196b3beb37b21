// A Cloud Run service reading a secret with the official Node client, as the service's own identity
// (application default credentials from the metadata server). The REST transport is used with an endpoint
// override: the client's fallback transport ignores HTTP proxies, and runguard gives instances its API address
// in RUNGUARD_API_ENDPOINT (host:port).
import { createServer } from "node:http";
import { SecretManagerServiceClient } from "@google-cloud/secret-manager";

const [apiEndpoint, port] = (process.env.RUNGUARD_API_ENDPOINT ?? "").split(":");
const client = new SecretManagerServiceClient(
  apiEndpoint ? { fallback: true, apiEndpoint, port: Number(port), protocol: "http" } : { fallback: true },
);

createServer(async (req, res) => {
  const name = new URL(req.url, "http://x").searchParams.get("name") ?? "";
  try {
    const [version] = await client.accessSecretVersion({ name });
    res.end(JSON.stringify({ ok: true, name: version.name, value: version.payload.data.toString("utf8") }));
  } catch (error) {
    res.end(JSON.stringify({ ok: false, code: error.code, message: String(error.message).slice(0, 300) }));
  }
}).listen(Number(process.env.PORT), "127.0.0.1");
