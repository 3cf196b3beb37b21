// A service that needs a database password: it says whether the secret reached it, never what it is.
import { createServer } from "node:http";

createServer((req, res) => {
  const password = process.env.DB_PASSWORD;
  res.writeHead(password ? 200 : 500, { "content-type": "text/plain" });
  res.end(password ? `DB_PASSWORD is set (${password.length} characters)\n` : "DB_PASSWORD is missing\n");
}).listen(Number(process.env.PORT), "127.0.0.1");
