// The seed's network claims, one by one, with the real gcloud: ingress is checked before IAM and never
// replaces it; a connector reaches private addresses and only then; all-traffic vs private-ranges-only
// decides whether a service-to-service call is internal.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { UNLOGGED_LABEL } from "../../src/store/request-log-entry.js";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gcloud } from "../helpers/gcloud.js";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { ECHO_IMAGE, FETCHER_IMAGE, registerTestImages } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";
import { ensureUser } from "../../src/accounts/users.js";

const run = promisify(execFile);
const bin = fileURLToPath(new URL("../../../bin/runguard.js", import.meta.url));
const R = "--region=us-central1";

describe("ingress and VPC egress", () => {
  let rg: TestRunguard;
  let env: Record<string, string>;
  let database: Server;
  const urls: Record<string, string> = {};
  const g = async (args: string[]) => {
    const result = await gcloud(env, args);
    assert.equal(result.code, 0, `${args.join(" ")}\n${result.stderr}`);
    return result;
  };
  const deploy = async (name: string, args: string[]) => {
    const result = await g(["run", "deploy", name, R, ...args]);
    urls[name] = /Service URL: (\S+)/.exec(result.stderr)?.[1] ?? "";
  };
  /** curl from inside the VPC network, the way a VM there would call. */
  const fromVpc = async (url: string, headers: string[] = []) => {
    const { stdout } = await run(
      process.execPath,
      [
        bin,
        "--data-dir",
        rg.dataDir,
        "vpc",
        "exec",
        "--network",
        "my-vpc",
        "--",
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        ...headers,
        url,
      ],
      { timeout: 30_000 },
    );
    return Number(stdout);
  };
  const external = async (url: string, headers: Record<string, string> = {}) =>
    (await invokeUrl(rg.endpoints.frontEnd, url, { headers })).status;
  const fetchFrom = async (caller: string, target: string, token = false) =>
    JSON.parse(
      (
        await invokeUrl(rg.endpoints.frontEnd, urls[caller] ?? "", {
          path: `/?url=${encodeURIComponent(target)}${token ? "&token=1" : ""}`,
        })
      ).body,
    ) as { status?: number; body?: string; error?: string };

  before(async () => {
    rg = await startTestRunguard();
    env = await rg.gcloudEnvFor();
    await registerTestImages(rg);
    database = createServer((_req, res) => res.end("private database answers")).listen(0, "127.0.0.1");
    await new Promise((r) => database.once("listening", r));
    await g(["compute", "networks", "create", "my-vpc", "--subnet-mode=custom"]);
    await g(["compute", "networks", "subnets", "create", "my-subnet", "--network=my-vpc", R, "--range=10.8.0.0/28"]);
    await g([
      "compute",
      "networks",
      "vpc-access",
      "connectors",
      "create",
      "my-connector",
      R,
      "--subnet=my-subnet",
      `--subnet-project=${PROJECT}`,
      "--min-instances=2",
      "--max-instances=10",
    ]);
    await run(process.execPath, [
      bin,
      "--data-dir",
      rg.dataDir,
      "vpc",
      "add-address",
      "--network",
      "my-vpc",
      "--address",
      "10.8.0.5:80",
      "--to",
      `127.0.0.1:${(database.address() as AddressInfo).port}`,
    ]);
    await deploy("open-internal", [`--image=${ECHO_IMAGE}`, "--allow-unauthenticated", "--ingress=internal"]);
    await deploy("locked-internal", [`--image=${ECHO_IMAGE}`, "--no-allow-unauthenticated", "--ingress=internal"]);
    await deploy("with-connector", [
      `--image=${FETCHER_IMAGE}`,
      "--allow-unauthenticated",
      "--vpc-connector=my-connector",
      "--vpc-egress=private-ranges-only",
    ]);
    await deploy("all-traffic", [
      `--image=${FETCHER_IMAGE}`,
      "--allow-unauthenticated",
      "--vpc-connector=my-connector",
      "--vpc-egress=all-traffic",
    ]);
    await deploy("no-vpc", [`--image=${FETCHER_IMAGE}`, "--allow-unauthenticated"]);
    await deploy("direct-vpc", [
      `--image=${FETCHER_IMAGE}`,
      "--allow-unauthenticated",
      "--network=my-vpc",
      "--subnet=my-subnet",
      "--vpc-egress=private-ranges-only",
    ]);
  });
  after(async () => {
    database.close();
    await rg.stop();
  });

  it("external requests to an internal service get 404 and are not logged", async () => {
    assert.equal(await external(urls["open-internal"] ?? ""), 404);
    await rg.dataPlane.flushLogs();
    const logs = await rg.platform.store.readLogs({
      logNamePrefix: `projects/${PROJECT}/logs/run.googleapis.com%2Frequests`,
      limit: 1000,
    });
    const ofService = logs.filter((r) => JSON.stringify(r.entry).includes("open-internal"));
    // Kept for `runguard logs --denied` only: marked so that the Logging API never lists it, as Cloud Run
    // never logs it.
    const unlogged = (r: (typeof logs)[number]) =>
      (r.entry["labels"] as Record<string, string> | undefined)?.[UNLOGGED_LABEL] === "true";
    assert.equal(ofService.filter((r) => !unlogged(r)).length, 0);
    assert.equal(ofService.filter(unlogged).length, 1);
  });

  it("--ingress=internal alone still admits unauthenticated internal callers (the seed's warning)", async () => {
    assert.equal(await fromVpc(urls["open-internal"] ?? ""), 200);
  });

  it("--no-allow-unauthenticated with --ingress=internal admits only authorized internal callers", async () => {
    const url = urls["locked-internal"] ?? "";
    assert.equal(await fromVpc(url), 403);
    const user = await ensureUser(rg.platform, OWNER);
    const token = await rg.platform.tokens.signIdToken({
      principal: { kind: "user", email: OWNER },
      uniqueId: user.uniqueId,
      audience: url,
      includeEmail: true,
    });
    assert.equal(await fromVpc(url, ["-H", `Authorization: Bearer ${token}`]), 200);
    assert.equal(
      await external(url, { authorization: `Bearer ${token}` }),
      404,
      "a valid token does not get past ingress",
    );
  });

  it("internal-and-cloud-load-balancing refuses the internet and admits the VPC", async () => {
    await deploy("lb-only", [
      `--image=${ECHO_IMAGE}`,
      "--allow-unauthenticated",
      "--ingress=internal-and-cloud-load-balancing",
    ]);
    assert.equal(await external(urls["lb-only"] ?? ""), 404);
    assert.equal(await fromVpc(urls["lb-only"] ?? ""), 200);
  });

  it("a service with a connector reaches the private address; one without cannot", async () => {
    assert.deepEqual(await fetchFrom("with-connector", "http://10.8.0.5/"), {
      status: 200,
      body: "private database answers",
    });
    // Without VPC access the address is unreachable: the egress proxy refuses the tunnel and the client fails,
    // as a real app's connection to a private IP fails without a connector.
    const blocked = await fetchFrom("no-vpc", "http://10.8.0.5/");
    assert.equal(blocked.status, undefined);
    assert.ok(blocked.error, JSON.stringify(blocked));
    const unregistered = await fetchFrom("with-connector", "http://10.8.0.9/");
    assert.ok(unregistered.error, "nothing answers at an address nobody registered");
  });

  it("Direct VPC egress (--network/--subnet) reaches the private address too", async () => {
    assert.deepEqual(await fetchFrom("direct-vpc", "http://10.8.0.5/"), {
      status: 200,
      body: "private database answers",
    });
  });

  it("all-traffic makes a service-to-service call internal; private-ranges-only does not", async () => {
    const target = urls["open-internal"] ?? "";
    assert.equal((await fetchFrom("all-traffic", target)).status, 200);
    assert.equal((await fetchFrom("with-connector", target)).status, 404);
    assert.equal((await fetchFrom("no-vpc", target)).status, 404);
  });

  it("rejects unknown connectors, overlapping subnets, a connector in another region", async () => {
    const unknown = await gcloud(env, [
      "run",
      "deploy",
      "bad-connector",
      R,
      `--image=${ECHO_IMAGE}`,
      "--vpc-connector=nosuch",
      "--no-allow-unauthenticated",
    ]);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /VPC connector projects\/my-gcp-project\/locations\/us-central1\/connectors\/nosuch was not found/,
    );
    const other = await gcloud(env, [
      "run",
      "deploy",
      "bad-region",
      R,
      `--image=${ECHO_IMAGE}`,
      `--vpc-connector=projects/${PROJECT}/locations/europe-west1/connectors/my-connector`,
      "--no-allow-unauthenticated",
    ]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /must be in the service's region us-central1/);
    const overlap = await gcloud(env, [
      "compute",
      "networks",
      "subnets",
      "create",
      "overlap",
      "--network=my-vpc",
      R,
      "--range=10.8.0.0/24",
    ]);
    assert.equal(overlap.code, 1);
    assert.match(overlap.stderr, /conflicts with existing subnetwork 'my-subnet'/);
  });
});
