// runguard as the benchmarks run it: the hello backend deployed as a public and a private service, and an ID
// token that may invoke the private one. BENCH_ISOLATION=process runs instances without network namespaces.
import { fileURLToPath } from "node:url";
import { OWNER, startTestRunguard, type TestRunguard } from "../test/helpers/runguard-instance.js";
import { deploy } from "../test/helpers/deploy.js";
import { addImage } from "../src/run/images.js";

export const fixtures = fileURLToPath(new URL("../../bench/fixtures/", import.meta.url));

export interface BenchServices {
  rg: TestRunguard;
  publicUrl: string;
  privateUrl: string;
  /** The owner's ID token for the private service. */
  token: string;
}

export async function startBenchServices(): Promise<BenchServices> {
  const isolation = process.env["BENCH_ISOLATION"];
  const rg = await startTestRunguard(isolation ? { isolation } : {});
  await addImage(rg.platform.store, "bench/hello", fixtures, [process.execPath, "hello.mjs"]);
  const [publicUrl] = (await deploy(rg, "bench-public", { image: "bench/hello", public: true })) as [string];
  const [privateUrl] = (await deploy(rg, "bench-private", { image: "bench/hello" })) as [string];
  return { rg, publicUrl, privateUrl, token: await rg.idTokenFor(OWNER, privateUrl) };
}
