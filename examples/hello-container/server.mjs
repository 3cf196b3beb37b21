import { createServer } from "node:http";

createServer((req, res) => {
  res.setHeader("content-type", "text/plain");
  res.end(`Hello from ${process.env.K_SERVICE} (${process.env.K_REVISION})\n`);
}).listen(Number(process.env.PORT ?? 8080));
