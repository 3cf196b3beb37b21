// runguard as users run it, for the front-end benchmark: `runguard up` (the real bin, which applies its own Node
// settings) in a process of its own, so that the benchmark's heap is not the front end's; the hello backend added
// with `runguard images add` and deployed public and private through the Run Admin API (as gcloud does); an ID
// token for the private one from `runguard token`.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { callApi, defaultOwner, openLocal, signedIn, type LocalSession } from "../src/cli/local.js";
import { bin, spawnUp, whenUp } from "../test/helpers/up-process.js";

export const fixtures = fileURLToPath(new URL("../../bench/fixtures/", import.meta.url));

export interface BenchRunguard {
  dataDir: string;
  frontEnd: string;
  publicUrl: string;
  privateUrl: string;
  /** The owner's ID token for the private service. */
  token: string;
  /** A public key that verifies it (for the express gateway). */
  pem: string;
  stop(): Promise<void>;
}

const runCli = async (dataDir: string, args: string[]) =>
  (await promisify(execFile)(process.execPath, [bin, "--data-dir", dataDir, ...args])).stdout.trim();

/** Deploys `image` (default: the hello catalogue entry) as `name`; returns the service's URL. */
export async function deployHello(
  session: LocalSession,
  name: string,
  isPublic: boolean,
  image = "bench/hello",
): Promise<string> {
  const { projectId, region } = session.endpoints;
  const owner = signedIn(defaultOwner(session));
  const service = (await callApi(
    session,
    owner,
    "POST",
    `/apis/serving.knative.dev/v1/namespaces/${projectId}/services`,
    {
      apiVersion: "serving.knative.dev/v1",
      kind: "Service",
      metadata: { name, namespace: projectId },
      spec: { template: { spec: { containers: [{ image }] } } },
    },
  )) as { metadata: { annotations: Record<string, string> } };
  if (isPublic) {
    await callApi(
      session,
      owner,
      "POST",
      `/v1/projects/${projectId}/locations/${region}/services/${name}:setIamPolicy`,
      {
        policy: { bindings: [{ role: "roles/run.invoker", members: ["allUsers"] }] },
      },
    );
  }
  const [url] = JSON.parse(service.metadata.annotations["run.googleapis.com/urls"] ?? "[]") as string[];
  if (!url) throw new Error(`${name} has no URL`);
  return url;
}

export async function startBenchRunguard(): Promise<BenchRunguard> {
  const dataDir = mkdtempSync(join(tmpdir(), "rg-bench-data-"));
  // Measured as before the live terminal: a line per request would also grow this process's copy of the output.
  const up = spawnUp(dataDir, ["--quiet"]);
  const stop = async () => {
    await up.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await whenUp(up, 120_000);
    await runCli(dataDir, ["images", "add", "bench/hello", "--dir", fixtures, "--", process.execPath, "hello.mjs"]);
    const session = await openLocal(dataDir);
    try {
      const publicUrl = await deployHello(session, "bench-public", true);
      const privateUrl = await deployHello(session, "bench-private", false);
      const token = await runCli(dataDir, ["token", "--audience", privateUrl]);
      const certs = (await (await fetch(`${session.endpoints.api}/oauth2/v1/certs`)).json()) as Record<string, string>;
      return {
        dataDir,
        frontEnd: session.endpoints.frontEnd,
        publicUrl,
        privateUrl,
        token,
        pem: Object.values(certs)[0] ?? "",
        stop,
      };
    } finally {
      await session.close();
    }
  } catch (error) {
    await stop();
    throw error;
  }
}
