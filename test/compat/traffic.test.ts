// Cloud Run traffic splitting with the real gcloud: update-traffic (--to-revisions, --to-latest, --to-tags,
// tags), deploy --no-traffic --tag, describe's traffic table with tag URLs; then what the front end does with it:
// a 50/50 split honoured over 200 requests, a tag URL reaching its revision at 0%, a 100% move taking effect on
// the next request, and request logs naming the revision that answered. Also what runguard does not emulate
// (jobs, domain mappings, custom roles, regional backend services) answering UNIMPLEMENTED.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { gcloud } from "../helpers/gcloud.js";
import { ECHO_IMAGE, registerTestImages } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";
import { PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import type { StoredService } from "../../src/run/types.js";

const REGION = "--region=us-central1";

describe("traffic splitting and tags through gcloud and the front end", () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  let url: string;
  let first: string;
  let second: string;
  const stored = () =>
    rg.platform.store.get<StoredService>("service", `projects/${PROJECT}/locations/us-central1/services/web`);
  const run = async (args: string[]) => {
    const result = await gcloud(env, args);
    assert.equal(result.code, 0, result.stderr);
    return result;
  };
  /** K_REVISION as the instance that answered sees it. */
  const revisionAt = async (serviceUrl: string, headers: Record<string, string> = {}) => {
    const answer = await invokeUrl(rg.endpoints.frontEnd, serviceUrl, { path: "/env?name=K_REVISION", headers });
    assert.equal(answer.status, 200, answer.body);
    return answer.body;
  };

  before(async () => {
    rg = await startTestRunguard();
    await registerTestImages(rg);
    env = await rg.gcloudEnvFor();
    await run(["run", "deploy", "web", `--image=${ECHO_IMAGE}`, REGION, "--allow-unauthenticated"]);
    await run(["run", "deploy", "web", `--image=${ECHO_IMAGE}`, REGION, "--update-env-vars=V=2"]);
    const service = await stored();
    assert.ok(service);
    second = service.latestReadyRevision ?? "";
    const listed = await run(["run", "revisions", "list", "--service=web", REGION, "--format=value(name)"]);
    first = listed.stdout.split("\n").find((name) => name && name !== second) ?? "";
    assert.match(first, /^web-00001-/);
    url = `https://web-${rg.endpoints.projectNumber}.us-central1.run.app`;
  });
  after(async () => rg.stop());

  it("update-traffic --to-revisions splits 50/50, and the front end honours it over 200 requests", async () => {
    const result = await run([
      "run",
      "services",
      "update-traffic",
      "web",
      REGION,
      `--to-revisions=${first}=50,${second}=50`,
    ]);
    assert.match(result.stdout, new RegExp(`50% +${first}`));
    assert.match(result.stdout, new RegExp(`50% +${second}`));
    assert.deepEqual((await stored())?.traffic, [
      { revisionName: first, percent: 50 },
      { revisionName: second, percent: 50 },
    ]);
    const counts = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const revision = await revisionAt(url);
      counts.set(revision, (counts.get(revision) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), [first, second].sort());
    // Binomial(200, 0.5): the standard deviation is about 7; 60–140 is beyond 5 of them.
    for (const count of counts.values()) assert.ok(count >= 60 && count <= 140, `split ${[...counts.values()]}`);
    // The request log names the revision that answered each request.
    await rg.dataPlane.flushLogs();
    const logged = await rg.platform.store.readLogs({
      logNamePrefix: `projects/${PROJECT}/logs/run.googleapis.com%2Frequests`,
      limit: 200,
    });
    const byRevision = new Map<string, number>();
    for (const record of logged) {
      const labels = (record.entry["resource"] as { labels: Record<string, string> }).labels;
      byRevision.set(labels["revision_name"] ?? "", (byRevision.get(labels["revision_name"] ?? "") ?? 0) + 1);
    }
    assert.deepEqual(byRevision, counts);
  });

  it("deploy --no-traffic --tag serves 0% on the service URL and everything on its tag URL", async () => {
    const deployed = await run([
      "run",
      "deploy",
      "web",
      `--image=${ECHO_IMAGE}`,
      REGION,
      "--update-env-vars=V=3",
      "--no-traffic",
      "--tag=green",
    ]);
    assert.match(deployed.stderr, /is serving 0 percent of traffic/);
    const hashUrl = /The revision can be reached directly at (https:\/\/green---web-[a-z0-9]{10}-uc\.a\.run\.app)/.exec(
      deployed.stderr,
    )?.[1];
    assert.ok(hashUrl, deployed.stderr);
    const third = (await stored())?.latestReadyRevision ?? "";
    assert.match(third, /^web-00004-/);
    const described = await run(["run", "services", "describe", "web", REGION]);
    assert.match(
      described.stderr + described.stdout,
      new RegExp(`0% +${third}\\s+green: ${hashUrl.replace(/\./g, "\\.")}`),
    );
    // Both forms of the tag URL reach the tagged revision; the service URL never does.
    const deterministic = `https://green---web-${rg.endpoints.projectNumber}.us-central1.run.app`;
    assert.equal(await revisionAt(hashUrl), third);
    assert.equal(await revisionAt(deterministic), third);
    for (let i = 0; i < 20; i++) assert.notEqual(await revisionAt(url), third);
    // An unknown tag is no URL at all.
    const unknown = await invokeUrl(
      rg.endpoints.frontEnd,
      `https://blue---web-${rg.endpoints.projectNumber}.us-central1.run.app`,
    );
    assert.equal(unknown.status, 404);
  });

  it("an ID token whose audience is a tag URL is accepted, as Cloud Run accepts any of the service's URLs", async () => {
    await run([
      "run",
      "services",
      "remove-iam-policy-binding",
      "web",
      REGION,
      "--member=allUsers",
      "--role=roles/run.invoker",
    ]);
    const tagUrl = `https://green---web-${rg.endpoints.projectNumber}.us-central1.run.app`;
    const token = await rg.idTokenFor("tester@example.com", tagUrl, "serviceAccount");
    // The account may not invoke yet: 403 shows the token itself was accepted (a rejected audience is 401).
    const denied = await invokeUrl(rg.endpoints.frontEnd, tagUrl, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(denied.status, 403);
    const stranger = await rg.idTokenFor("tester@example.com", "https://elsewhere.example.com", "serviceAccount");
    const wrong = await invokeUrl(rg.endpoints.frontEnd, tagUrl, { headers: { authorization: `Bearer ${stranger}` } });
    assert.equal(wrong.status, 401);
    await run([
      "run",
      "services",
      "add-iam-policy-binding",
      "web",
      REGION,
      "--member=allUsers",
      "--role=roles/run.invoker",
    ]);
  });

  it("--to-tags, --to-revisions=REV=100 and --to-latest move traffic on the next request", async () => {
    const third = (await stored())?.latestReadyRevision ?? "";
    await run(["run", "services", "update-traffic", "web", REGION, "--to-tags=green=100"]);
    assert.equal(await revisionAt(url), third);
    await run(["run", "services", "update-traffic", "web", REGION, `--to-revisions=${first}=100`]);
    for (let i = 0; i < 10; i++) assert.equal(await revisionAt(url), first);
    const latest = await run(["run", "services", "update-traffic", "web", REGION, "--to-latest"]);
    assert.match(latest.stdout, new RegExp(`100% +LATEST \\(currently ${third}\\)`));
    assert.equal(await revisionAt(url), third);
  });

  it("--set-tags, --remove-tags and --clear-tags manage tags and their URLs", async () => {
    await run(["run", "services", "update-traffic", "web", REGION, `--set-tags=blue=${first}`]);
    const blue = `https://blue---web-${rg.endpoints.projectNumber}.us-central1.run.app`;
    assert.equal(await revisionAt(blue), first);
    assert.deepEqual(
      (await stored())?.traffic.map((t) => t.tag).filter(Boolean),
      ["blue"],
      "--set-tags replaces every other tag",
    );
    await run(["run", "services", "update-traffic", "web", REGION, "--update-tags=canary=" + second]);
    await run(["run", "services", "update-traffic", "web", REGION, "--remove-tags=blue"]);
    assert.equal((await invokeUrl(rg.endpoints.frontEnd, blue)).status, 404);
    const canary = `https://canary---web-${rg.endpoints.projectNumber}.us-central1.run.app`;
    assert.equal(await revisionAt(canary), second);
    await run(["run", "services", "update-traffic", "web", REGION, "--clear-tags"]);
    assert.equal((await invokeUrl(rg.endpoints.frontEnd, canary)).status, 404);
    assert.deepEqual((await stored())?.traffic, [{ latestRevision: true, percent: 100 }]);
  });

  it("refuses traffic Cloud Run refuses, with its messages", async () => {
    const token = await rg.accessTokenFor("user:developer@example.com");
    const base = `${rg.endpoints.api}/apis/serving.knative.dev/v1/namespaces/${PROJECT}/services/web`;
    const current = (await (await fetch(base, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      spec: Record<string, unknown>;
      metadata: Record<string, unknown>;
    };
    const put = async (traffic: unknown) => {
      const response = await fetch(base, {
        method: "PUT",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ ...current, spec: { ...current.spec, traffic } }),
      });
      const body = (await response.json()) as { error: { code: number; message: string; status: string } };
      assert.equal(response.status, body.error.code);
      return `${body.error.status}: ${body.error.message}`;
    };
    assert.equal(
      await put([
        { revisionName: first, percent: 60 },
        { revisionName: second, percent: 30 },
      ]),
      "INVALID_ARGUMENT: spec.traffic: Traffic targets sum to 90, want 100",
    );
    assert.equal(
      await put([{ revisionName: "web-09999-zzz", percent: 100 }]),
      "INVALID_ARGUMENT: spec.traffic: Revision 'web-09999-zzz' does not exist or is deleted. Update all traffic to route to currently available revisions.",
    );
    assert.equal(
      await put([
        { latestRevision: true, percent: 100, tag: "dup" },
        { revisionName: first, tag: "dup" },
      ]),
      'INVALID_ARGUMENT: spec.traffic[0].tag, spec.traffic[1].tag: Multiple definitions for "dup"',
    );
    const long = "t".repeat(44);
    assert.equal(
      await put([{ latestRevision: true, percent: 100, tag: long }]),
      `INVALID_ARGUMENT: spec.traffic.tag: traffic tag '${long}' and service name 'web' together are too long. Combined traffic tag and service name cannot exceed 46 characters.`,
    );
    assert.match(
      await put([{ latestRevision: true, percent: 100, tag: "Green" }]),
      /^INVALID_ARGUMENT: spec\.traffic\[0\]\.tag: Invalid tag 'Green'/,
    );
    // Nothing refused was stored.
    assert.deepEqual((await stored())?.traffic, [{ latestRevision: true, percent: 100 }]);
  });
});

describe("what runguard does not emulate answers UNIMPLEMENTED", () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  before(async () => {
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
  });
  after(async () => rg.stop());

  it("gcloud compute backend-services create --region names regional backend services", async () => {
    const result = await gcloud(env, [
      "compute",
      "backend-services",
      "create",
      "regional-bs",
      REGION,
      "--load-balancing-scheme=EXTERNAL_MANAGED",
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Regional load balancing \(regional backend services\) is not implemented in runguard/);
  });

  it("gcloud run jobs list names the Jobs API (after gcloud's own retries of a 5xx)", async () => {
    const result = await gcloud(env, ["run", "jobs", "list", REGION], { timeoutMs: 120_000 });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /The Cloud Run Jobs API is not implemented in runguard/);
    assert.match(result.stderr, /UNIMPLEMENTED/);
  });

  it("the URL families of jobs, domain mappings, custom roles and regional backend services", async () => {
    const token = await rg.accessTokenFor("user:developer@example.com");
    const calls: Array<[string, string, string, RegExp]> = [
      ["GET", "us-central1-run.googleapis.com", `/apis/run.googleapis.com/v1/namespaces/${PROJECT}/jobs`, /Jobs API/],
      [
        "POST",
        "us-central1-run.googleapis.com",
        `/apis/run.googleapis.com/v1/namespaces/${PROJECT}/jobs/j1:run`,
        /Jobs API/,
      ],
      ["GET", "run.googleapis.com", `/v2/projects/${PROJECT}/locations/us-central1/jobs/j1`, /Jobs API/],
      [
        "GET",
        "us-central1-run.googleapis.com",
        `/apis/domains.cloudrun.com/v1/namespaces/${PROJECT}/domainmappings`,
        /domain mapping/,
      ],
      ["GET", "run.googleapis.com", `/v1/projects/${PROJECT}/authorizeddomains`, /domain mapping/],
      ["GET", "iam.googleapis.com", `/v1/projects/${PROJECT}/roles`, /Custom IAM role/],
      ["POST", "iam.googleapis.com", `/v1/projects/${PROJECT}/roles`, /Custom IAM role/],
      ["POST", "iam.googleapis.com", "/v1/permissions:queryTestablePermissions", /Custom IAM role/],
      [
        "DELETE",
        "compute.googleapis.com",
        `/compute/v1/projects/${PROJECT}/regions/us-central1/backendServices/x`,
        /regional backend services/,
      ],
    ];
    for (const [method, host, path, what] of calls) {
      // As gcloud sends it: an absolute URL to runguard as its HTTP proxy.
      const { request } = await import("node:http");
      const api = new URL(rg.endpoints.api);
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: api.hostname,
            port: api.port,
            method,
            path: `http://${host}${path}`,
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          },
          (res) => {
            let body = "";
            res.on("data", (chunk: Buffer) => (body += chunk.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on("error", reject);
        req.end(method === "GET" || method === "DELETE" ? undefined : "{}");
      });
      assert.equal(answer.status, 501, `${method} ${path}`);
      const error = (JSON.parse(answer.body) as { error: { code: number; status: string; message: string } }).error;
      assert.equal(error.code, 501);
      assert.equal(error.status, "UNIMPLEMENTED");
      assert.match(error.message, what);
      assert.match(error.message, /is not implemented in runguard/);
    }
  });
});
