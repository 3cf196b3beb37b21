// Secret Manager access from @google-cloud/secret-manager against runguard: over gRPC (h2c into the gRPC
// gateway, which transcodes to the REST route) and over REST (`fallback: true`), per-call latency.
// Both go to runguard's one API port, as a client library outside an instance does (h2c for gRPC, HTTP/1.1 for
// REST). runguard runs in this process, so client and server share one event loop: numbers are an upper bound.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import { OAuth2Client } from "google-auth-library";
import { parseConfig } from "../src/core/config.js";
import { startRunguard } from "../src/app/runguard.js";
import { createLogger } from "../src/app/logger.js";
import { mintAccessToken } from "../src/app/local-credentials.js";
import { ensureUser } from "../src/accounts/users.js";

export interface GrpcBenchResult {
  calls: number;
  grpc: { p50Ms: number; p99Ms: number };
  rest: { p50Ms: number; p99Ms: number };
}

const OWNER = "bench@example.com";
const PROJECT = "bench-project";

function percentiles(samples: number[]): { p50Ms: number; p99Ms: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50Ms: at(0.5), p99Ms: at(0.99) };
}

export async function runGrpcBench(calls = 500): Promise<GrpcBenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "rg-bench-grpc-"));
  const config = parseConfig({
    dataDir,
    apiPort: 0,
    frontEndPort: 0,
    lbPort: 0,
    lbHttpsPort: 0,
    projectId: PROJECT,
    ownerEmail: OWNER,
  });
  const rg = await startRunguard(config, { logger: createLogger({ level: "silent" }) });
  const clients: SecretManagerServiceClient[] = [];
  try {
    await ensureUser(rg.platform, OWNER);
    const token = await mintAccessToken(rg.platform, { kind: "user", email: OWNER });
    const authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: token });
    const api = new URL(rg.endpoints.api);
    const overGrpc = new SecretManagerServiceClient({
      servicePath: api.hostname,
      port: Number(api.port),
      sslCreds: grpc.credentials.createInsecure(),
      authClient,
    } as never);
    const overRest = new SecretManagerServiceClient({
      fallback: true,
      apiEndpoint: api.hostname,
      port: Number(api.port),
      protocol: "http",
      authClient,
    } as never);
    clients.push(overGrpc, overRest);
    // h2c carries no call credentials: the token rides as call metadata.
    const withToken = { otherArgs: { headers: { authorization: `Bearer ${token}` } } };
    await overGrpc.createSecret(
      { parent: `projects/${PROJECT}`, secretId: "bench", secret: { replication: { automatic: {} } } },
      withToken,
    );
    await overGrpc.addSecretVersion(
      { parent: `projects/${PROJECT}/secrets/bench`, payload: { data: Buffer.from("bench-value") } },
      withToken,
    );
    const name = `projects/${PROJECT}/secrets/bench/versions/latest`;
    const measure = async (access: () => Promise<unknown>) => {
      for (let i = 0; i < 20; i++) await access();
      const samples: number[] = [];
      for (let i = 0; i < calls; i++) {
        const start = performance.now();
        await access();
        samples.push(performance.now() - start);
      }
      return percentiles(samples);
    };
    return {
      calls,
      grpc: await measure(() => overGrpc.accessSecretVersion({ name }, withToken)),
      rest: await measure(() => overRest.accessSecretVersion({ name })),
    };
  } finally {
    for (const client of clients) await client.close();
    await rg.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function formatGrpcReport(result: GrpcBenchResult): string {
  const line = (label: string, p: { p50Ms: number; p99Ms: number }) =>
    `  ${label}: p50 ${p.p50Ms.toFixed(2)} ms, p99 ${p.p99Ms.toFixed(2)} ms`;
  return [
    line(`gRPC (h2c, ${result.calls} calls)`, result.grpc),
    line(`REST (fallback, ${result.calls} calls)`, result.rest),
  ].join("\n");
}
