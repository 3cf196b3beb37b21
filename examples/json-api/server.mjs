// A private JSON API: what the seed's call_private_service expects to talk to.
import { createServer } from "node:http";

createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ service: process.env.K_SERVICE, received: body ? JSON.parse(body) : null }));
  });
}).listen(Number(process.env.PORT), "127.0.0.1");
