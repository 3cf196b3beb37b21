// runguard's built-in stand-in for us-docker.pkg.dev/cloudrun/container/hello: a tiny HTTP server that follows
// the container contract (listens on $PORT) and greets with the service and revision names.
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 8080);
const service = process.env.K_SERVICE ?? "unknown";
const revision = process.env.K_REVISION ?? "unknown";

const page = `<!doctype html>
<html><head><title>Congratulations | Cloud Run</title></head>
<body><h1>It's running!</h1>
<p>Congratulations, you successfully deployed a container image to Cloud Run (runguard).</p>
<p>Service: ${service}<br>Revision: ${revision}</p></body></html>
`;

createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(req.method === "HEAD" ? undefined : page);
}).listen(port, () =>
  console.log(`Hello from Cloud Run! The container started successfully and is listening for HTTP requests on ${port}`),
);

process.on("SIGTERM", () => process.exit(0));
