// Service B: a private API that says who it is.
import { createServer } from "node:http";

createServer((req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ service: process.env.K_SERVICE, path: req.url }));
}).listen(Number(process.env.PORT), "127.0.0.1");
