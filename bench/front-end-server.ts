// The runguard the front-end benchmark measures, in a process of its own as `runguard up` runs: the hello backend
// deployed public and private, then one JSON line on stdout with what the benchmark needs. Stops on SIGTERM.
import { startBenchServices } from "./bench-services.js";

const { rg, publicUrl, privateUrl, token } = await startBenchServices();
const pem = Object.values(await rg.platform.tokens.pemCerts())[0] ?? "";
process.stdout.write(`${JSON.stringify({ frontEnd: rg.endpoints.frontEnd, publicUrl, privateUrl, token, pem })}\n`);
const stop = async () => {
  await rg.stop();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
