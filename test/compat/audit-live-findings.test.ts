// The analyzer on live state, with the seed's two exposure mistakes made for real: an internal service left
// public that only other services call (real service-to-service calls with metadata-server ID tokens, so the
// request log names each caller), and a test service left public. And RG-IAM-004's proposed commands, run
// with the real gcloud, remove the grants they name.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gcloud } from "../helpers/gcloud.js";
import { PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { ECHO_IMAGE, FETCHER_IMAGE, registerTestImages } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";

const run = promisify(execFile);
const bin = fileURLToPath(new URL("../../../bin/runguard.js", import.meta.url));
const R = "--region=us-central1";
const CALLER_SA = `caller-sa@${PROJECT}.iam.gserviceaccount.com`;
const BOB = "user:bob@example.com";

interface Finding {
  ruleId: string;
  severity: string;
  resource: string;
  evidence: string;
  fix: string[];
}

describe("runguard audit on live state: exposure and unused grants", () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  const urls: Record<string, string> = {};
  const g = async (args: string[], stdin?: string) => {
    const result = await gcloud(env, args, stdin === undefined ? {} : { stdin });
    assert.equal(result.code, 0, `gcloud ${args.join(" ")}: ${result.stderr}`);
    return result;
  };
  const deploy = async (name: string, args: string[]) => {
    const result = await g(["run", "deploy", name, R, ...args]);
    urls[name] = /Service URL: (\S+)/.exec(result.stderr)?.[1] ?? "";
  };
  const audit = async (): Promise<Finding[]> => {
    await rg.dataPlane.flushLogs();
    const { stdout } = await run(process.execPath, [bin, "--data-dir", rg.dataDir, "audit", "--format", "json"]);
    return (JSON.parse(stdout) as { findings: Finding[] }).findings;
  };
  const on = (findings: Finding[], rule: string, name: string) =>
    findings.filter((f) => f.ruleId === rule && f.resource.endsWith(`/${name}`));

  before(async () => {
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
    await registerTestImages(rg);
    await g(["iam", "service-accounts", "create", "caller-sa"]);
    await deploy("internal-api", [`--image=${ECHO_IMAGE}`, "--allow-unauthenticated"]);
    await deploy("test-svc", [`--image=${ECHO_IMAGE}`, "--allow-unauthenticated"]);
    await deploy("caller", [
      `--image=${FETCHER_IMAGE}`,
      "--no-allow-unauthenticated",
      `--service-account=${CALLER_SA}`,
    ]);
  });
  after(async () => rg.stop());

  it("a public service's request log names a caller that sends a valid ID token, never the token", async () => {
    const caller = urls["caller"] ?? "";
    const ownerToken = await rg.idTokenFor("developer@example.com", caller);
    for (let i = 0; i < 3; i++) {
      // The caller's instance gets an ID token from its metadata server and calls internal-api with it.
      const answer = await invokeUrl(rg.endpoints.frontEnd, caller, {
        path: `/?url=${encodeURIComponent(`${urls["internal-api"]}/`)}&token=1`,
        headers: { authorization: `Bearer ${ownerToken}` },
      });
      assert.equal(answer.status, 200, answer.body);
      assert.equal((JSON.parse(answer.body) as { status: number }).status, 200);
    }
    // A token that does not verify is not enforced on a public service: the call succeeds, and names nobody.
    const forged = await invokeUrl(rg.endpoints.frontEnd, urls["test-svc"] ?? "", {
      headers: { authorization: "Bearer eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6ImV2ZUBleGFtcGxlLmNvbSJ9.c2ln" },
    });
    assert.equal(forged.status, 200);
    await rg.dataPlane.flushLogs();
    const entries = (await rg.platform.store.readLogs({ limit: 10_000 }))
      .map(
        (r) =>
          r.entry as {
            httpRequest?: unknown;
            labels?: Record<string, string>;
            resource?: { labels?: Record<string, string> };
          },
      )
      .filter((e) => e.httpRequest);
    const of = (service: string) => entries.filter((e) => e.resource?.labels?.["service_name"] === service);
    assert.deepEqual(
      of("internal-api").map((e) => e.labels?.["runguard.dev/principal"]),
      [CALLER_SA, CALLER_SA, CALLER_SA],
    );
    assert.deepEqual(
      of("test-svc").map((e) => e.labels?.["runguard.dev/principal"]),
      [undefined],
    );
    assert.doesNotMatch(JSON.stringify(of("internal-api")), /eyJ/, "no token in the request log");
  });

  it("RG-RUN-003 flags the internal service left public, whose callers are all service accounts", async () => {
    const findings = await audit();
    const [internal] = on(findings, "RG-RUN-003", "internal-api");
    assert.ok(internal, JSON.stringify(findings, null, 1));
    assert.equal(internal.severity, "medium");
    assert.match(
      internal.evidence,
      new RegExp(`every caller seen is a service account \\(serviceAccount:${CALLER_SA}\\)`),
    );
    assert.ok(
      internal.fix.includes(
        "gcloud run services remove-iam-policy-binding internal-api --region=us-central1 --member=allUsers --role=roles/run.invoker",
      ),
    );
    assert.deepEqual(on(findings, "RG-RUN-004", "internal-api"), [], "one finding per mistake");
  });

  it("RG-RUN-004 flags the test service left public; its own fix silences it", async () => {
    const [finding] = on(await audit(), "RG-RUN-004", "test-svc");
    assert.ok(finding);
    assert.equal(finding.severity, "low");
    const silence = finding.fix.find((c) => c.includes("--update-labels=public=true")) ?? "";
    assert.equal(silence, "gcloud run services update test-svc --region=us-central1 --update-labels=public=true");
    await g(silence.split(" ").slice(1));
    assert.deepEqual(on(await audit(), "RG-RUN-004", "test-svc"), []);
  });

  it("RG-IAM-004 proposes, for a grant on a service, a secret or a service account, a command gcloud runs", async () => {
    await g([
      "run",
      "services",
      "add-iam-policy-binding",
      "test-svc",
      R,
      `--member=${BOB}`,
      "--role=roles/run.invoker",
    ]);
    await g(["secrets", "create", "api-key", "--data-file=-"], "k");
    await g([
      "secrets",
      "add-iam-policy-binding",
      "api-key",
      `--member=${BOB}`,
      "--role=roles/secretmanager.secretAccessor",
    ]);
    await g([
      "iam",
      "service-accounts",
      "add-iam-policy-binding",
      CALLER_SA,
      `--member=${BOB}`,
      "--role=roles/iam.serviceAccountUser",
    ]);
    const unused = (await audit()).filter((f) => f.ruleId === "RG-IAM-004" && f.evidence.startsWith(`${BOB} `));
    const commands = unused.map((f) => f.fix.at(-1) ?? "").sort();
    assert.deepEqual(commands, [
      `gcloud iam service-accounts remove-iam-policy-binding ${CALLER_SA} --project=${PROJECT} --member=${BOB} --role=roles/iam.serviceAccountUser`,
      `gcloud run services remove-iam-policy-binding test-svc --region=us-central1 --project=${PROJECT} --member=${BOB} --role=roles/run.invoker`,
      `gcloud secrets remove-iam-policy-binding api-key --project=${PROJECT} --member=${BOB} --role=roles/secretmanager.secretAccessor`,
    ]);
    for (const command of commands) await g(command.split(" ").slice(1));
    assert.deepEqual(
      (await audit()).filter((f) => f.ruleId === "RG-IAM-004" && f.evidence.startsWith(`${BOB} `)),
      [],
      "every grant the commands named is gone",
    );
  });
});
