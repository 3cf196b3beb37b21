// Google's Node client for the Cloud Run Admin API v2 (@google-cloud/run, REST transport pointed at runguard):
// create, get, list, IAM policy, secret volumes, update and delete, on the same services gcloud sees, served by
// the front end.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ServicesClient, protos } from "@google-cloud/run";
import { OAuth2Client } from "google-auth-library";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { gcloud } from "../helpers/gcloud.js";
import { invokeUrl } from "../helpers/invoke.js";
import { ECHO_IMAGE, registerTestImages } from "../helpers/deploy.js";

const PARENT = `projects/${PROJECT}/locations/us-central1`;
// The REST transport asks for enums as numbers (enum-encoding=int) and hands them over as such.
const { State } = protos.google.cloud.run.v2.Condition;
const { IngressTraffic } = protos.google.cloud.run.v2;

describe("@google-cloud/run (Admin API v2)", () => {
  let rg: TestRunguard;
  let client: ServicesClient;
  let uri = "";

  before(async () => {
    rg = await startTestRunguard();
    await registerTestImages(rg);
    const authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: await rg.accessTokenFor(`user:${OWNER}`) });
    const api = new URL(rg.endpoints.api);
    client = new ServicesClient({
      fallback: true,
      apiEndpoint: api.hostname,
      port: Number(api.port),
      protocol: "http",
      authClient,
    } as unknown as ConstructorParameters<typeof ServicesClient>[0]);
  });
  after(async () => {
    await client?.close();
    await rg?.stop();
  });

  it("creates a service and waits for the operation", async () => {
    const [operation] = await client.createService({
      parent: PARENT,
      serviceId: "from-client",
      service: {
        ingress: "INGRESS_TRAFFIC_ALL",
        template: {
          containers: [{ image: ECHO_IMAGE, env: [{ name: "GREETING", value: "hello from v2" }] }],
          scaling: { maxInstanceCount: 3 },
          maxInstanceRequestConcurrency: 10,
        },
      },
    });
    const [service] = await operation.promise();
    assert.equal(service.name, `${PARENT}/services/from-client`);
    uri = service.uri ?? "";
    assert.match(uri, /^https:\/\/from-client-[a-z0-9]+-uc\.a\.run\.app$/);
    assert.equal(service.terminalCondition?.state, State.CONDITION_SUCCEEDED);
  });

  it("reads and lists it, and gcloud sees the same service", async () => {
    const [service] = await client.getService({ name: `${PARENT}/services/from-client` });
    assert.equal(service.template?.maxInstanceRequestConcurrency, 10);
    assert.equal(service.template?.scaling?.maxInstanceCount, 3);
    assert.equal(service.template?.containers?.[0]?.env?.[0]?.value, "hello from v2");
    const [services] = await client.listServices({ parent: PARENT });
    assert.deepEqual(
      services.map((s) => s.name),
      [`${PARENT}/services/from-client`],
    );
    const described = await gcloud(await rg.gcloudEnvFor(), [
      "run",
      "services",
      "describe",
      "from-client",
      "--region=us-central1",
      "--format=value(status.url)",
    ]);
    assert.equal(described.stdout.trim(), uri);
  });

  it("its IAM policy decides who may invoke: private by default, public once allUsers is bound", async () => {
    assert.equal((await invokeUrl(rg.endpoints.frontEnd, uri)).status, 403);
    const name = `${PARENT}/services/from-client`;
    const [policy] = await client.getIamPolicy({ resource: name });
    await client.setIamPolicy({
      resource: name,
      policy: { bindings: [{ role: "roles/run.invoker", members: ["allUsers"] }], etag: policy.etag ?? null },
    });
    const answered = await invokeUrl(rg.endpoints.frontEnd, uri);
    assert.equal(answered.status, 200);
    assert.equal((JSON.parse(answered.body) as { env: { GREETING: string } }).env.GREETING, "hello from v2");
    const [tested] = await client.testIamPermissions({ resource: name, permissions: ["run.services.get"] });
    assert.deepEqual(tested.permissions, ["run.services.get"]);
  });

  it("mounts a secret volume and injects a secret env var given through v2, and reads them back", async () => {
    const token = await rg.accessTokenFor(`user:${OWNER}`);
    const api = async (path: string, body: unknown) => {
      const response = await fetch(`${rg.endpoints.api}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      assert.ok(response.ok, await response.clone().text());
    };
    await api(`/v1/projects/${PROJECT}/secrets?secretId=v2-key`, { replication: { automatic: {} } });
    await api(`/v1/projects/${PROJECT}/secrets/v2-key:addVersion`, {
      payload: { data: Buffer.from("first").toString("base64") },
    });
    await api(`/v1/projects/${PROJECT}/secrets/v2-key:addVersion`, {
      payload: { data: Buffer.from("second").toString("base64") },
    });
    const compute = `serviceAccount:${rg.endpoints.projectNumber}-compute@developer.gserviceaccount.com`;
    await api(`/v1/projects/${PROJECT}/secrets/v2-key:setIamPolicy`, {
      policy: { bindings: [{ role: "roles/secretmanager.secretAccessor", members: [compute] }] },
    });
    const [operation] = await client.createService({
      parent: PARENT,
      serviceId: "with-volume",
      service: {
        invokerIamDisabled: true,
        template: {
          containers: [
            {
              image: ECHO_IMAGE,
              env: [{ name: "GREETING", valueSource: { secretKeyRef: { secret: "v2-key", version: "1" } } }],
              volumeMounts: [{ name: "keys", mountPath: "/secrets/app" }],
            },
          ],
          volumes: [
            {
              name: "keys",
              secret: { secret: `projects/${PROJECT}/secrets/v2-key`, items: [{ path: "current", version: "latest" }] },
            },
          ],
        },
      },
    });
    const [created] = await operation.promise();
    assert.equal(created.terminalCondition?.state, State.CONDITION_SUCCEEDED);
    const file = await invokeUrl(rg.endpoints.frontEnd, created.uri ?? "", { path: "/file?path=/secrets/app/current" });
    assert.equal(file.body, "second");
    const env = await invokeUrl(rg.endpoints.frontEnd, created.uri ?? "", { path: "/env?name=GREETING" });
    assert.equal(env.body, "first");
    const [service] = await client.getService({ name: `${PARENT}/services/with-volume` });
    assert.deepEqual(
      service.template?.volumes?.map((v) => [
        v.name,
        v.secret?.secret,
        v.secret?.items?.map((i) => [i.path, i.version]),
      ]),
      [["keys", "v2-key", [["current", "latest"]]]],
    );
    assert.deepEqual(
      service.template?.containers?.[0]?.volumeMounts?.map((m) => [m.name, m.mountPath]),
      [["keys", "/secrets/app"]],
    );
    const described = await gcloud(await rg.gcloudEnvFor(), [
      "run",
      "services",
      "describe",
      "with-volume",
      "--region=us-central1",
      "--format=json",
    ]);
    assert.ok(!described.stdout.includes("second") && !described.stdout.includes("first"), "no secret value shown");
    assert.match(described.stdout, /"mountPath": "\/secrets\/app"/);
  });

  /** createService with this template must fail with this gRPC code and a message matching `message`. */
  const assertRefused = (
    serviceId: string,
    template: protos.google.cloud.run.v2.IRevisionTemplate,
    code: number,
    message: RegExp,
  ) =>
    assert.rejects(
      client.createService({ parent: PARENT, serviceId, service: { template } }),
      (error: { code?: number; message?: string }) => {
        assert.equal(error.code, code);
        assert.match(error.message ?? "", message);
        return true;
      },
    );

  it("refuses volume sources runguard does not have, with a Google error", () =>
    assertRefused(
      "with-cloudsql",
      {
        containers: [{ image: ECHO_IMAGE }],
        volumes: [{ name: "db", cloudSqlInstance: { instances: [`${PROJECT}:us-central1:db`] } }],
      },
      12, // UNIMPLEMENTED
      /secret volumes only/,
    ));

  it("refuses a secret file path that would leave its mount", () =>
    assertRefused(
      "escaping-volume",
      {
        containers: [{ image: ECHO_IMAGE, volumeMounts: [{ name: "keys", mountPath: "/secrets/app" }] }],
        volumes: [{ name: "keys", secret: { secret: "v2-key", items: [{ path: "../../etc/evil", version: "1" }] } }],
      },
      3, // INVALID_ARGUMENT
      /must be relative to the mount path/,
    ));

  it("refuses a mount of a volume's subPath instead of mounting the whole volume", () =>
    assertRefused(
      "with-subpath",
      {
        containers: [
          { image: ECHO_IMAGE, volumeMounts: [{ name: "keys", mountPath: "/secrets/app", subPath: "current" }] },
        ],
        volumes: [{ name: "keys", secret: { secret: "v2-key", items: [{ path: "current", version: "1" }] } }],
      },
      12, // UNIMPLEMENTED
      /does not mount a subPath/,
    ));

  it("splits traffic and tags a revision through v2's traffic and trafficStatuses", async () => {
    const { TrafficTargetAllocationType } = protos.google.cloud.run.v2;
    const name = `${PARENT}/services/from-client`;
    const revisionAt = async (url: string) =>
      (await invokeUrl(rg.endpoints.frontEnd, url, { path: "/env?name=K_REVISION" })).body;
    const [current] = await client.getService({ name });
    const first = current.latestReadyRevision?.split("/").pop() ?? "";
    const container = { image: ECHO_IMAGE, env: [{ name: "GREETING", value: "second" }] };
    const [deploy] = await client.updateService({
      service: { ...current, template: { ...current.template, containers: [container] } },
    });
    const [deployed] = await deploy.promise();
    const second = deployed.latestReadyRevision?.split("/").pop() ?? "";
    assert.notEqual(second, first);
    const [move] = await client.updateService({
      service: {
        ...deployed,
        traffic: [
          { type: TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION, revision: first, percent: 100 },
          { type: TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST, tag: "next" },
        ],
      },
    });
    const [moved] = await move.promise();
    // The tag follows the latest ready revision (re-sending the template as read may itself make a new one).
    const latest = moved.latestReadyRevision?.split("/").pop() ?? "";
    assert.match(latest, /^from-client-0000[23]-/);
    const tagged = moved.trafficStatuses?.find((status) => status.tag === "next");
    assert.equal(tagged?.revision, latest);
    assert.match(tagged?.uri ?? "", /^https:\/\/next---from-client-[a-z0-9]{10}-uc\.a\.run\.app$/);
    assert.equal(moved.trafficStatuses?.find((status) => !status.tag)?.percent, 100);
    assert.equal(await revisionAt(uri), first, "100% back on the first revision");
    assert.equal(await revisionAt(tagged?.uri ?? ""), latest, "the tag URL reaches the latest at 0%");
    // A revision that does not exist is refused, and nothing changes.
    await assert.rejects(
      client.updateService({
        service: {
          ...moved,
          traffic: [
            {
              type: TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION,
              revision: "from-client-09999-zzz",
              percent: 100,
            },
          ],
        },
      }),
      (error: { code?: number; message?: string }) => {
        assert.equal(error.code, 3, "INVALID_ARGUMENT");
        assert.match(String(error.message), /Revision 'from-client-09999-zzz' does not exist or is deleted/);
        return true;
      },
    );
    assert.equal(await revisionAt(uri), first);
  });

  it("updates ingress and deletes; errors come back as Google errors", async () => {
    const [current] = await client.getService({ name: `${PARENT}/services/from-client` });
    const [update] = await client.updateService({
      service: { ...current, ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY" },
    });
    const [updated] = await update.promise();
    assert.equal(updated.ingress, IngressTraffic.INGRESS_TRAFFIC_INTERNAL_ONLY);
    assert.equal((await invokeUrl(rg.endpoints.frontEnd, uri)).status, 404, "internal ingress: the internet gets 404");
    const [deletion] = await client.deleteService({ name: `${PARENT}/services/from-client` });
    await deletion.promise();
    await assert.rejects(client.getService({ name: `${PARENT}/services/from-client` }), (error: { code?: number }) => {
      assert.equal(error.code, 5, "NOT_FOUND");
      return true;
    });
  });
});
