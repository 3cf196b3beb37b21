// A bounded soak on loopback: thousands of credential-less browser requests to an IAP-protected service (each
// starts a pending sign-in, with a long path) and anonymous requests refused with 403 at the front end (each
// logged), with small caps configured. Memory and the database must stay flat: the middle sample is compared to
// the end, with a tolerance. The figures are printed.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Agent, request } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { deploy, registerTestImages } from "../helpers/deploy.js";

const ROUNDS = 16;
const REQUESTS_PER_ROUND = 1000; // half IAP sign-ins, half anonymous 403s
const CONCURRENCY = 16;
const MB = 1024 * 1024;

// A full garbage collection before each sample, so RSS compares like with like (node --test gives no --expose-gc).
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

interface Sample {
  requests: number;
  rssMb: number;
  dbKb: number;
  walKb: number;
}

describe("soak: pending sign-ins and request logs stay bounded", () => {
  let rg: TestRunguard;
  let iapHost: string;
  let privateHost: string;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  before(async () => {
    rg = await startTestRunguard({
      pendingSignInMaxCount: 500,
      pendingSignInMaxBytes: 256 * 1024,
      requestLogMaxBytes: 256 * 1024,
      requestLogRetentionCheckMs: 200,
    });
    await registerTestImages(rg);
    const [iapUrl] = await deploy(rg, "soak-iap", { annotations: { "run.googleapis.com/iap-enabled": "true" } });
    const [privateUrl] = await deploy(rg, "soak-private");
    iapHost = new URL(iapUrl ?? "").host;
    privateHost = new URL(privateUrl ?? "").host;
  });
  after(async () => {
    agent.destroy();
    await rg?.stop();
  });

  const send = (host: string, path: string, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const front = new URL(rg.endpoints.frontEnd);
      const req = request(
        { host: front.hostname, port: front.port, path, agent, headers: { host, ...headers } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end();
    });

  const sample = (requests: number): Sample => {
    const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);
    return {
      requests,
      rssMb: Math.round((process.memoryUsage().rss / MB) * 10) / 10,
      dbKb: Math.round(size(join(rg.dataDir, "runguard.db")) / 1024),
      walKb: Math.round(size(join(rg.dataDir, "runguard.db-wal")) / 1024),
    };
  };

  it("RSS and database size are flat from the middle of the run to its end", async () => {
    const statuses = new Map<number, number>();
    let sent = 0;
    const samples: Sample[] = [sample(0)];
    const startedAt = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      let next = 0;
      const worker = async () => {
        while (next < REQUESTS_PER_ROUND) {
          const n = next++;
          const status =
            n % 2 === 0
              ? // A browser without credentials, on a distinct long path each time: a pending sign-in per request.
                await send(iapHost, `/page/${sent + n}/${"x".repeat(1500)}`, { accept: "text/html" })
              : await send(privateHost, `/anonymous/${sent + n}`, {});
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      sent += REQUESTS_PER_ROUND;
      await rg.dataPlane.flushLogs();
      // Let the log writer's retention run once, then settle garbage so RSS compares like with like.
      await new Promise((resolve) => setTimeout(resolve, 400));
      collectGarbage();
      samples.push(sample(sent));
    }
    const elapsedS = (Date.now() - startedAt) / 1000;
    // The peak of the first half (after warm-up) against the second half: flat means no new high beyond noise.
    const middle = samples[Math.floor(ROUNDS / 2)] as Sample;
    const firstHalfPeak = Math.max(...samples.slice(1, Math.floor(ROUNDS / 2) + 1).map((s) => s.rssMb));
    const end = samples[ROUNDS] as Sample;
    console.log(
      `soak: ${sent} requests in ${elapsedS.toFixed(1)} s (statuses ${JSON.stringify(Object.fromEntries(statuses))})\n` +
        samples.map((s) => `  after ${s.requests}: RSS ${s.rssMb} MB, db ${s.dbKb} KB, wal ${s.walKb} KB`).join("\n"),
    );
    assert.equal(statuses.get(302), sent / 2, "every browser request was sent to sign in");
    assert.equal(statuses.get(403), sent / 2, "every anonymous request was refused");
    const secondHalfPeak = Math.max(...samples.slice(Math.floor(ROUNDS / 2) + 1).map((s) => s.rssMb));
    assert.ok(secondHalfPeak - firstHalfPeak < 20, `RSS peaked at ${firstHalfPeak} MB, then at ${secondHalfPeak} MB`);
    // The WAL is part of the database: rows land there first and it is reused once checkpointed (at ~4 MB).
    const onDisk = (s: Sample) => s.dbKb + s.walKb;
    assert.ok(
      onDisk(end) <= onDisk(middle) * 1.1 + 64,
      `database and WAL grew from ${onDisk(middle)} KB to ${onDisk(end)} KB`,
    );
  });
});
