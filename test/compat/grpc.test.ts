// Google's client libraries over gRPC (h2c to a loopback listener that hands its connections to the gateway, as
// the transport listener does): Secret Manager, Run Admin v2 and IAM Credentials, answered by the same routes
// as REST — the same denial message, the same audit entry — and hostile input answered with a status.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, connect, type Server } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import { ServicesClient } from "@google-cloud/run";
import { IAMCredentialsClient } from "@google-cloud/iam-credentials";
import { OAuth2Client } from "google-auth-library";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { googleProtos } from "../../src/control-plane/grpc/protos.js";
import { deploy, ECHO_IMAGE, registerTestImages } from "../helpers/deploy.js";

const READER = "reader@example.com";
const SECRET_VALUE = "grpc-transcoded-value";
const SA_EMAIL = `signer@${PROJECT}.iam.gserviceaccount.com`;

interface RestBody {
  error: { message: string; details: Array<{ reason: string; domain: string }> };
}

/** CRC32C (Castagnoli), as Secret Manager's data_crc32c. */
function crc32c(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe("gRPC gateway (h2c, transcoded to the REST routes)", () => {
  let rg: TestRunguard;
  let listener: Server;
  let port = 0;
  const clients: Array<{ close(): Promise<void> }> = [];
  /** gRPC over h2c: call credentials cannot ride an insecure channel, so the token goes as call metadata. */
  const asUser = async (email: string) => ({
    otherArgs: { headers: { authorization: `Bearer ${await rg.accessTokenFor(`user:${email}`)}` } },
  });
  const clientOptions = () => {
    const authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: "unused-over-h2c" });
    // Two google-auth-library copies (the test's and the clients'): the same class, types that differ.
    return { servicePath: "127.0.0.1", port, sslCreds: grpc.credentials.createInsecure(), authClient } as never;
  };
  const rest = async (email: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${rg.endpoints.api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await rg.accessTokenFor(`user:${email}`)}`,
        "content-type": "application/json",
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as RestBody };
  };
  let secrets: SecretManagerServiceClient;

  before(async () => {
    rg = await startTestRunguard();
    listener = createServer((socket) => rg.grpc.injectConnection(socket));
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    port = (listener.address() as { port: number }).port;
    secrets = new SecretManagerServiceClient(clientOptions());
    clients.push(secrets);
  });
  after(async () => {
    for (const client of clients) await client.close();
    listener?.close();
    await rg?.stop();
  });

  it("creates a secret, adds a version and accesses it: the payload and its CRC32C match", async () => {
    const owner = await asUser(OWNER);
    const [secret] = await secrets.createSecret(
      { parent: `projects/${PROJECT}`, secretId: "db-password", secret: { replication: { automatic: {} } } },
      owner,
    );
    assert.equal(secret.name, `projects/${rg.endpoints.projectNumber}/secrets/db-password`);
    const data = Buffer.from(SECRET_VALUE);
    const [version] = await secrets.addSecretVersion(
      { parent: `projects/${PROJECT}/secrets/db-password`, payload: { data, dataCrc32c: crc32c(data) } },
      owner,
    );
    assert.match(version.name ?? "", /\/secrets\/db-password\/versions\/1$/);
    const [accessed] = await secrets.accessSecretVersion(
      { name: `projects/${PROJECT}/secrets/db-password/versions/latest` },
      owner,
    );
    assert.equal(Buffer.from(accessed.payload?.data ?? "").toString(), SECRET_VALUE);
    assert.equal(Number(accessed.payload?.dataCrc32c), crc32c(data));
    const [listed] = await secrets.listSecrets({ parent: `projects/${PROJECT}` }, owner);
    assert.deepEqual(
      listed.map((s) => s.name),
      [secret.name],
    );
  });

  it("refuses a caller without secretmanager.versions.access: PERMISSION_DENIED, REST's message and audit entry", async () => {
    const name = `projects/${PROJECT}/secrets/db-password/versions/1`;
    const viaRest = await rest(READER, "GET", `/v1/${name}:access`);
    assert.equal(viaRest.status, 403);
    const denied = await secrets.accessSecretVersion({ name }, await asUser(READER)).then(
      () => assert.fail("access was allowed"),
      (error: grpc.ServiceError & { statusDetails?: Array<Record<string, unknown>> }) => error,
    );
    assert.equal(denied.code, grpc.status.PERMISSION_DENIED);
    assert.equal(denied.details, viaRest.body.error.message);
    // grpc-status-details-bin: google.rpc.Status with the same ErrorInfo as REST's details.
    const statusBin = denied.metadata.get("grpc-status-details-bin")[0];
    assert.ok(Buffer.isBuffer(statusBin));
    const info = denied.statusDetails?.find((d) => "reason" in d);
    assert.equal(info?.["reason"], viaRest.body.error.details[0]?.reason);
    assert.equal(info?.["domain"], viaRest.body.error.details[0]?.domain);

    const logs = await rg.platform.store.readLogs({
      logNamePrefix: `projects/${PROJECT}/logs/cloudaudit.googleapis.com%2Fdata_access`,
      limit: 100,
    });
    const refusals = logs.map((entry) => JSON.stringify(entry)).filter((entry) => entry.includes(READER));
    assert.equal(refusals.length, 2, JSON.stringify(refusals));
    // What differs by nature: when, the entry's id, and the user agent (grpc-node-js vs node's fetch).
    const varying = new Set(["timestamp", "receiveTimestamp", "insertId", "callerSuppliedUserAgent"]);
    const comparable = (entry: string): unknown =>
      JSON.parse(entry, (key, value: unknown) => (varying.has(key) ? undefined : value));
    assert.deepEqual(comparable(refusals[0]!), comparable(refusals[1]!));
  });

  it("answers UNAUTHENTICATED without a token and INVALID_ARGUMENT for a name no binding fits", async () => {
    const name = `projects/${PROJECT}/secrets/db-password/versions/1`;
    await assert.rejects(secrets.accessSecretVersion({ name }), { code: grpc.status.UNAUTHENTICATED });
    await assert.rejects(secrets.accessSecretVersion({ name: "not/a/version" }, await asUser(OWNER)), {
      code: grpc.status.INVALID_ARGUMENT,
    });
  });

  it("IAM v1 on a secret over gRPC: setIamPolicy, getIamPolicy with its etag, testIamPermissions, then access", async () => {
    const owner = await asUser(OWNER);
    const resource = `projects/${PROJECT}/secrets/db-password`;
    const [set] = await secrets.setIamPolicy(
      {
        resource,
        policy: { bindings: [{ role: "roles/secretmanager.secretAccessor", members: [`user:${READER}`] }] },
      },
      owner,
    );
    assert.ok(set.etag && set.etag.length > 0);
    const [got] = await secrets.getIamPolicy({ resource }, owner);
    assert.deepEqual(
      got.bindings?.map((b) => [b.role, b.members]),
      [["roles/secretmanager.secretAccessor", [`user:${READER}`]]],
    );
    assert.equal(Buffer.from(got.etag ?? "").toString("base64"), Buffer.from(set.etag ?? "").toString("base64"));
    const [tested] = await secrets.testIamPermissions(
      { resource, permissions: ["secretmanager.versions.access", "secretmanager.secrets.delete"] },
      await asUser(READER),
    );
    assert.deepEqual(tested.permissions, ["secretmanager.versions.access"]);
    const [accessed] = await secrets.accessSecretVersion({ name: `${resource}/versions/1` }, await asUser(READER));
    assert.equal(Buffer.from(accessed.payload?.data ?? "").toString(), SECRET_VALUE);
  });

  it("@google-cloud/run v2 ServicesClient lists and gets a service", async () => {
    await registerTestImages(rg);
    await deploy(rg, "hello");
    const run = new ServicesClient(clientOptions());
    clients.push(run);
    const owner = await asUser(OWNER);
    const parent = `projects/${PROJECT}/locations/us-central1`;
    const [services] = await run.listServices({ parent }, owner);
    assert.deepEqual(
      services.map((s) => s.name),
      [`${parent}/services/hello`],
    );
    const [service] = await run.getService({ name: `${parent}/services/hello` }, owner);
    assert.equal(service.name, `${parent}/services/hello`);
    assert.match(service.uri ?? "", /^https?:\/\//);
    assert.ok(service.createTime?.seconds);
    await assert.rejects(run.getService({ name: `${parent}/services/nope` }, owner), {
      code: grpc.status.NOT_FOUND,
    });
  });

  it("@google-cloud/run v2 creates and deletes over gRPC: long-running operations carry the Service as Any", async () => {
    const run = new ServicesClient(clientOptions());
    clients.push(run);
    const owner = await asUser(OWNER);
    const parent = `projects/${PROJECT}/locations/us-central1`;
    const [operation] = await run.createService(
      { parent, serviceId: "made-over-grpc", service: { template: { containers: [{ image: ECHO_IMAGE }] } } },
      owner,
    );
    const [created] = await operation.promise();
    assert.equal(created.name, `${parent}/services/made-over-grpc`);
    assert.equal(created.template?.containers?.[0]?.image, ECHO_IMAGE);
    // Operations.GetOperation on Run's own path, as the library polls it.
    const [polled] = await run.operationsClient.getOperation(
      { name: operation.name ?? "" } as Parameters<typeof run.operationsClient.getOperation>[0],
      owner,
    );
    assert.equal(polled.done, true);
    assert.equal(polled.response?.type_url, "type.googleapis.com/google.cloud.run.v2.Service");
    const [deleting] = await run.deleteService({ name: created.name ?? "" }, owner);
    await deleting.promise();
    await assert.rejects(run.getService({ name: created.name ?? "" }, owner), { code: grpc.status.NOT_FOUND });
  });

  it("IAMCredentials generateAccessToken and generateIdToken", async () => {
    const created = await rest(OWNER, "POST", `/v1/projects/${PROJECT}/serviceAccounts`, { accountId: "signer" });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const granted = await rest(OWNER, "POST", `/v1/projects/${PROJECT}/serviceAccounts/${SA_EMAIL}:setIamPolicy`, {
      policy: { bindings: [{ role: "roles/iam.serviceAccountTokenCreator", members: [`user:${OWNER}`] }] },
    });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    const credentials = new IAMCredentialsClient(clientOptions());
    clients.push(credentials);
    const owner = await asUser(OWNER);
    const name = `projects/-/serviceAccounts/${SA_EMAIL}`;
    const [access] = await credentials.generateAccessToken(
      { name, scope: ["https://www.googleapis.com/auth/cloud-platform"] },
      owner,
    );
    assert.ok(access.accessToken);
    assert.ok(Number(access.expireTime?.seconds) > Date.now() / 1000);
    // The minted token works on runguard's REST side.
    const listed = await fetch(`${rg.endpoints.api}/v1/projects/${PROJECT}/secrets`, {
      headers: { authorization: `Bearer ${access.accessToken}` },
    });
    assert.notEqual(listed.status, 401);
    const [id] = await credentials.generateIdToken(
      { name, audience: "https://example.test", includeEmail: true },
      owner,
    );
    const claims = JSON.parse(Buffer.from(id.token?.split(".")[1] ?? "", "base64url").toString()) as Record<
      string,
      unknown
    >;
    assert.equal(claims["aud"], "https://example.test");
    assert.equal(claims["email"], SA_EMAIL);
    await assert.rejects(credentials.generateAccessToken({ name, scope: ["x"] }, await asUser(READER)), {
      code: grpc.status.PERMISSION_DENIED,
    });
  });

  describe("hostile input", () => {
    const raw = () => new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const unary = (client: grpc.Client, path: string, message: Buffer, metadata = new grpc.Metadata()) =>
      new Promise<grpc.ServiceError | Buffer>((resolve) => {
        client.makeUnaryRequest(
          path,
          (b: Buffer) => b,
          (b: Buffer) => b,
          message,
          metadata,
          (error, reply) => resolve(error ?? (reply as Buffer)),
        );
      });
    const ACCESS = "/google.cloud.secretmanager.v1.SecretManagerService/AccessSecretVersion";

    it("an unknown method is UNIMPLEMENTED", async () => {
      const client = raw();
      const answer = await unary(client, "/google.cloud.secretmanager.v1.SecretManagerService/Nope", Buffer.alloc(0));
      assert.equal((answer as grpc.ServiceError).code, grpc.status.UNIMPLEMENTED);
      const executions = await unary(client, "/google.cloud.run.v2.Executions/GetExecution", Buffer.alloc(0));
      assert.equal((executions as grpc.ServiceError).code, grpc.status.UNIMPLEMENTED);
      client.close();
    });

    it("Logging v2 is transcoded: ListLogEntries reaches POST /v2/entries:list, audit entries' AuditLog encoded", async () => {
      const client = raw();
      const root = googleProtos();
      const request = root.lookupType("google.logging.v2.ListLogEntriesRequest");
      const message = request.encode({ resourceNames: [`projects/${PROJECT}`], pageSize: 5 }).finish();
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${await rg.accessTokenFor(`user:${OWNER}`)}`);
      const answer = await unary(
        client,
        "/google.logging.v2.LoggingServiceV2/ListLogEntries",
        Buffer.from(message),
        metadata,
      );
      client.close();
      assert.ok(Buffer.isBuffer(answer), (answer as grpc.ServiceError).details);
      const listed = root.lookupType("google.logging.v2.ListLogEntriesResponse").decode(answer) as unknown as {
        entries: { logName: string; protoPayload?: { type_url: string } }[];
      };
      // The earlier tests' calls were audited: their entries come back with the AuditLog as an Any.
      const audited = listed.entries.filter((entry) => entry.protoPayload);
      assert.ok(audited.length > 0, JSON.stringify(listed.entries.map((entry) => entry.logName)));
      assert.equal(audited[0]?.protoPayload?.type_url, "type.googleapis.com/google.cloud.audit.AuditLog");
    });

    /** The owner's token: an unauthenticated call is refused before its message is read (grpc-limits.test.ts). */
    const ownerMetadata = async () => {
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${await rg.accessTokenFor(`user:${OWNER}`)}`);
      return metadata;
    };

    it("a message that does not decode is INVALID_ARGUMENT", async () => {
      const client = raw();
      const junk = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]);
      const answer = await unary(client, ACCESS, junk, await ownerMetadata());
      assert.equal((answer as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
      client.close();
    });

    it("a message over the size limit is RESOURCE_EXHAUSTED, never read whole", async () => {
      const client = raw();
      const huge = Buffer.alloc(rg.platform.config.maxBodyBytes + 1024, 0x41);
      const answer = await unary(client, ACCESS, huge, await ownerMetadata());
      assert.equal((answer as grpc.ServiceError).code, grpc.status.RESOURCE_EXHAUSTED);
      client.close();
    });

    it("garbage and a truncated preface close the connection; runguard keeps serving", async () => {
      for (const junk of [
        Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        Buffer.alloc(4096, 0xff),
        Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\xff\x04\x00\x00\x00\x00\x00"),
      ]) {
        const socket = connect(port, "127.0.0.1");
        socket.on("error", () => undefined);
        socket.resume();
        socket.write(junk);
        await new Promise<void>((resolve) => {
          socket.on("close", () => resolve());
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 2000).unref();
        });
      }
      const [accessed] = await secrets.accessSecretVersion(
        { name: `projects/${PROJECT}/secrets/db-password/versions/1` },
        await asUser(OWNER),
      );
      assert.equal(Buffer.from(accessed.payload?.data ?? "").toString(), SECRET_VALUE);
    });
  });
});
