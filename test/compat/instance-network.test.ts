// Unchanged workloads in netns instances: no GCE_METADATA_* variable and no proxy, and still
// google-auth-library and Python google.auth get tokens from metadata.google.internal / 169.254.169.254 and call a
// private service by its run.app URL; curl reaches secretmanager.googleapis.com trusting only the system bundle;
// and a real PostgreSQL registered at 10.8.0.5:5432 answers the pg driver from a revision with a connector, and
// does not exist for one without.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gcloud } from "../helpers/gcloud.js";
import { startPostgres } from "../helpers/postgres.js";
import { PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { deploy, registerTestImages, setInvokers } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";
import { addImage } from "../../src/run/images.js";
import { detectIsolation } from "../../src/runtime/isolation.js";

const runFile = promisify(execFile);
const bin = fileURLToPath(new URL("../../../bin/runguard.js", import.meta.url));
const apps = fileURLToPath(new URL("../../../test/fixtures/apps/", import.meta.url));
const WORKLOAD_IMAGE = "gcr.io/runguard-tests/workload";
const R = "--region=us-central1";

const netns = detectIsolation() === "netns";

describe(
  "unchanged workloads in netns instances",
  { skip: netns ? false : "this machine has no network namespaces" },
  () => {
    let rg: TestRunguard;
    let postgres: Awaited<ReturnType<typeof startPostgres>> | undefined;
    let calleeUrl = "";
    const urls: Record<string, string> = {};
    const ask = async (service: string, route: string, params: Record<string, string> = {}) => {
      const query = new URLSearchParams(params).toString();
      const answer = await invokeUrl(rg.endpoints.frontEnd, urls[service] ?? "", { path: `/${route}?${query}` });
      assert.equal(answer.status, 200, answer.body);
      return JSON.parse(answer.body) as Record<string, unknown>;
    };

    before(async () => {
      postgres = await startPostgres();
      rg = await startTestRunguard({ isolation: "netns" });
      const env = await rg.gcloudEnvFor();
      const g = async (args: string[]) => {
        const result = await gcloud(env, args);
        assert.equal(result.code, 0, `${args.join(" ")}\n${result.stderr}`);
      };
      await registerTestImages(rg);
      await addImage(rg.platform.store, WORKLOAD_IMAGE, apps, [process.execPath, "workload.mjs"]);
      await g(["compute", "networks", "create", "my-vpc", "--subnet-mode=custom"]);
      await g(["compute", "networks", "subnets", "create", "my-subnet", "--network=my-vpc", R, "--range=10.8.0.0/28"]);
      await g(["compute", "networks", "vpc-access", "connectors", "create", "my-connector", R, "--subnet=my-subnet"]);
      await runFile(process.execPath, [
        bin,
        "--data-dir",
        rg.dataDir,
        "vpc",
        "add-address",
        "--network",
        "my-vpc",
        "--address",
        "10.8.0.5:5432",
        "--to",
        `127.0.0.1:${postgres.port}`,
      ]);
      for (const account of ["caller", "outsider"]) await g(["iam", "service-accounts", "create", account]);
      await g([
        "projects",
        "add-iam-policy-binding",
        PROJECT,
        `--member=serviceAccount:caller@${PROJECT}.iam.gserviceaccount.com`,
        "--role=roles/secretmanager.viewer",
      ]);
      [calleeUrl] = (await deploy(rg, "callee")) as [string];
      await setInvokers(rg, "callee", [`serviceAccount:caller@${PROJECT}.iam.gserviceaccount.com`]);
      [urls["caller"]] = (await deploy(rg, "caller", {
        image: WORKLOAD_IMAGE,
        public: true,
        serviceAccount: `caller@${PROJECT}.iam.gserviceaccount.com`,
        templateAnnotations: {
          "run.googleapis.com/vpc-access-connector": "my-connector",
          "run.googleapis.com/vpc-access-egress": "private-ranges-only",
        },
      })) as [string];
      [urls["other"]] = (await deploy(rg, "other", {
        image: WORKLOAD_IMAGE,
        public: true,
        serviceAccount: `outsider@${PROJECT}.iam.gserviceaccount.com`,
      })) as [string];
    });
    after(async () => {
      await rg?.stop();
      await postgres?.stop();
    });

    it("runs in its own network namespace, with no metadata variable set", async () => {
      assert.equal(rg.endpoints.isolation, "netns");
      assert.deepEqual(await ask("caller", "env"), {
        GCE_METADATA_HOST: null,
        GCE_METADATA_IP: null,
        GCE_METADATA_ROOT: null,
      });
    });

    it("resolves Google's and Cloud Run's names to their addresses, and nothing else", async () => {
      const resolve = (name: string) => ask("caller", "resolve", { name });
      assert.deepEqual(await resolve("metadata.google.internal"), {
        lookup: { value: ["169.254.169.254"] },
        resolve4: { value: ["169.254.169.254"] },
        resolve6: { error: "ENODATA" },
      });
      for (const name of ["secretmanager.googleapis.com", "www.gstatic.com", new URL(calleeUrl).hostname]) {
        const answer = await resolve(name);
        assert.deepEqual(answer["lookup"], { value: ["199.36.153.4"] }, name);
        assert.deepEqual(answer["resolve6"], { error: "ENODATA" }, name);
      }
      const outside = await resolve("www.example.com");
      assert.deepEqual(outside["lookup"], { error: "ENOTFOUND" });
      assert.deepEqual(outside["resolve4"], { error: "ENOTFOUND" });
    });

    it("google-auth-library gets an ID token from the metadata server and calls a private service: 200, 403 without the binding", async () => {
      const allowed = await ask("caller", "call", { url: calleeUrl });
      assert.equal(allowed["status"], 200, JSON.stringify(allowed));
      const denied = await ask("other", "call", { url: calleeUrl });
      assert.equal(denied["status"], 403, JSON.stringify(denied));
    });

    it("Python google.auth's fetch_id_token finds metadata.google.internal by itself", async () => {
      const answer = await ask("caller", "python", { url: calleeUrl });
      assert.equal(answer["status"], 200, JSON.stringify(answer));
      const claims = JSON.parse(
        Buffer.from(String(answer["token"]).split(".")[1] ?? "", "base64url").toString(),
      ) as Record<string, unknown>;
      assert.equal(claims["email"], `caller@${PROJECT}.iam.gserviceaccount.com`);
      assert.equal(claims["aud"], calleeUrl);
    });

    it("curl reaches secretmanager.googleapis.com over HTTPS trusting only the system bundle", async () => {
      const answer = await ask("caller", "curl", {
        url: `https://secretmanager.googleapis.com/v1/projects/${PROJECT}/secrets`,
      });
      assert.equal(answer["code"], 0, JSON.stringify(answer));
      assert.equal(answer["status"], 200, JSON.stringify(answer));
    });

    it("a real PostgreSQL at 10.8.0.5:5432 answers the pg driver with a connector, and does not exist without", async () => {
      assert.deepEqual(await ask("caller", "pg", { address: "10.8.0.5:5432" }), { rows: [{ one: 1 }] });
      const refused = await ask("other", "pg", { address: "10.8.0.5:5432" });
      assert.match(String(refused["error"]), /^(ECONNREFUSED|ENETUNREACH|EHOSTUNREACH)$/, JSON.stringify(refused));
      // An address nobody registered does not exist either, even for a revision with a connector.
      const unregistered = await ask("caller", "pg", { address: "10.8.0.6:5432" });
      assert.match(String(unregistered["error"]), /^(ECONNREFUSED|ENETUNREACH|EHOSTUNREACH)$/);
    });
  },
);
