// What a hostile gRPC peer can hold on the API port, through the real listener (h2c, TLS h2, TLS h2 inside
// CONNECT): a connection whose peer has gone is released, an idle one is closed, an unauthenticated call is
// refused from its metadata before its message is buffered or decoded, and authenticated calls share a byte
// budget and a receive deadline. Authenticated clients keep working throughout.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import http2 from "node:http2";
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { OWNER, PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { googleProtos } from "../../src/control-plane/grpc/protos.js";

const PREFACE = Buffer.concat([
  Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);
const ACCESS = "/google.cloud.secretmanager.v1.SecretManagerService/AccessSecretVersion";
const LIST = "/google.cloud.secretmanager.v1.SecretManagerService/ListSecrets";

async function waitFor(what: string, condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves when the server closes `socket`, or fails after `ms`. */
function closedByServer(socket: Socket, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const apiPort = (rg: TestRunguard) => Number(new URL(rg.endpoints.api).port);

function h2c(rg: TestRunguard): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(apiPort(rg), "127.0.0.1", () => {
      socket.write(PREFACE);
      resolve(socket);
    });
    socket.on("error", reject);
    socket.resume();
  });
}

function tlsH2(rg: TestRunguard, socket?: Socket): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tls = tlsConnect(
      {
        ...(socket ? { socket } : { host: "127.0.0.1", port: apiPort(rg) }),
        servername: "secretmanager.googleapis.com",
        ca: readFileSync(rg.endpoints.caBundlePath),
        ALPNProtocols: ["h2"],
      },
      () => {
        tls.write(PREFACE);
        resolve(tls);
      },
    );
    tls.on("error", reject);
    tls.resume();
  });
}

function connectTunnel(rg: TestRunguard): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(apiPort(rg), "127.0.0.1", () =>
      socket.write(
        "CONNECT secretmanager.googleapis.com:443 HTTP/1.1\r\nHost: secretmanager.googleapis.com:443\r\n\r\n",
      ),
    );
    socket.once("data", (answer: Buffer) =>
      String(answer).startsWith("HTTP/1.1 200") ? resolve(socket) : reject(new Error(String(answer))),
    );
    socket.on("error", reject);
  });
}

/** A raw gRPC call over h2c: its stream, the message bytes written so far, and its status once it has one. */
function rawCall(rg: TestRunguard, path: string, authorization?: string) {
  const session = http2.connect(rg.endpoints.api);
  session.on("error", () => undefined);
  const stream = session.request({
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
    ...(authorization ? { authorization } : {}),
  });
  stream.on("error", () => undefined);
  const answered = new Promise<http2.IncomingHttpHeaders>((resolve) => {
    // A refusal before any message is a trailers-only response: grpc-status in the headers.
    stream.on("response", (headers) => {
      if (headers["grpc-status"] !== undefined) resolve(headers);
    });
    stream.on("trailers", resolve);
  });
  stream.resume();
  return { session, stream, answered };
}

/** A 5-byte gRPC message prefix declaring `length` bytes, and the first `sent` of them. */
const partialMessage = (length: number, sent: number) => {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(length, 1);
  return Buffer.concat([prefix, Buffer.alloc(sent, 0x41)]);
};

const unary = (port: number, path: string, message: Buffer, metadata = new grpc.Metadata()) => {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise<grpc.ServiceError | Buffer>((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      message,
      metadata,
      (error, reply) => {
        client.close();
        resolve(error ?? (reply as Buffer));
      },
    );
  });
};

const listSecretsMessage = () => {
  const type = googleProtos().lookupType("google.cloud.secretmanager.v1.ListSecretsRequest");
  return Buffer.from(type.encode({ parent: `projects/${PROJECT}` }).finish());
};

describe("gRPC limits: connections whose peer has gone are released", () => {
  let rg: TestRunguard;
  before(async () => {
    rg = await startTestRunguard();
  });
  after(async () => {
    await rg?.stop();
  });

  const releasedAfterFin = async (label: string, open: () => Promise<Socket | TLSSocket>) => {
    const base = rg.grpc.usage().connections;
    const sockets = [];
    for (let i = 0; i < 5; i++) sockets.push(await open());
    await waitFor(`${label}: 5 connections reach the gateway`, () => rg.grpc.usage().connections === base + 5);
    // end(): the peer's FIN and nothing else, as from a killed client (no GOAWAY).
    for (const socket of sockets) socket.end();
    await waitFor(`${label}: the gateway releases them`, () => rg.grpc.usage().connections === base, 2000);
  };

  it("h2c: a peer's FIN without GOAWAY closes runguard's side (no CLOSE-WAIT)", async () => {
    await releasedAfterFin("h2c", () => h2c(rg));
  });

  it("TLS h2, direct and inside CONNECT: a peer's FIN closes runguard's side", async () => {
    await releasedAfterFin("TLS h2", () => tlsH2(rg));
    await releasedAfterFin("CONNECT + TLS h2", async () => tlsH2(rg, await connectTunnel(rg)));
  });

  it("an abruptly destroyed client (a killed process) is released too", async () => {
    const base = rg.grpc.usage().connections;
    const socket = await h2c(rg);
    await waitFor("the connection reaches the gateway", () => rg.grpc.usage().connections === base + 1);
    socket.destroy();
    await waitFor("the gateway releases it", () => rg.grpc.usage().connections === base, 2000);
  });

  describe("unauthenticated calls are refused before their message is read", () => {
    it("a stream declaring a 1 MiB message and never sending it gets UNAUTHENTICATED at once, as REST says it", async () => {
      const rest = await fetch(`${rg.endpoints.api}/v1/projects/${PROJECT}/secrets`);
      const restMessage = ((await rest.json()) as { error: { message: string } }).error.message;
      const call = rawCall(rg, ACCESS);
      call.stream.write(partialMessage(rg.platform.config.maxBodyBytes - 16, 1000));
      const started = Date.now();
      const status = await Promise.race([
        call.answered,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3000).unref()),
      ]);
      call.session.destroy();
      assert.ok(status, "no answer while the message is incomplete: it was being buffered");
      assert.ok(Date.now() - started < 3000);
      assert.equal(status["grpc-status"], String(grpc.status.UNAUTHENTICATED));
      assert.equal(decodeURIComponent(String(status["grpc-message"])), restMessage);
      const details = Buffer.from(String(status["grpc-status-details-bin"]), "base64");
      const decoded = googleProtos().lookupType("google.rpc.Status").decode(details) as unknown as {
        code: number;
        message: string;
      };
      assert.equal(decoded.code, grpc.status.UNAUTHENTICATED);
      assert.equal(decoded.message, restMessage);
    });

    it("an unauthenticated message that does not decode is UNAUTHENTICATED, not INVALID_ARGUMENT: no decode", async () => {
      const junk = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]);
      const missing = await unary(apiPort(rg), ACCESS, junk);
      assert.equal((missing as grpc.ServiceError).code, grpc.status.UNAUTHENTICATED);
      const metadata = new grpc.Metadata();
      metadata.set("authorization", "Bearer ya29.not-a-token");
      const invalid = await unary(apiPort(rg), ACCESS, junk, metadata);
      assert.equal((invalid as grpc.ServiceError).code, grpc.status.UNAUTHENTICATED);
      assert.match((invalid as grpc.ServiceError).details, /^Request had invalid authentication credentials/);
      // The same bytes from the owner do get decoded, and refused as what they are.
      const owner = new grpc.Metadata();
      owner.set("authorization", `Bearer ${await rg.accessTokenFor(`user:${OWNER}`)}`);
      const decodedAnswer = await unary(apiPort(rg), ACCESS, junk, owner);
      assert.equal((decodedAnswer as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
    });

    it("an authenticated client is answered on the same port", async () => {
      const owner = new grpc.Metadata();
      owner.set("authorization", `Bearer ${await rg.accessTokenFor(`user:${OWNER}`)}`);
      const answer = await unary(apiPort(rg), LIST, listSecretsMessage(), owner);
      assert.ok(Buffer.isBuffer(answer), (answer as grpc.ServiceError).details);
      assert.deepEqual(rg.grpc.usage().reservedBytes, 0);
    });
  });
});

describe("gRPC limits: idle connections, the connection cap, the byte budget and the receive deadline", () => {
  let rg: TestRunguard;
  const maxBodyBytes = 256 * 1024;
  before(async () => {
    rg = await startTestRunguard(
      { maxBodyBytes },
      {
        grpcLimits: { connectionIdleMs: 1000, maxConnections: 4, maxBufferedBytes: 2 * maxBodyBytes, receiveMs: 1500 },
      },
    );
  });
  after(async () => {
    await rg?.stop();
  });

  it("an idle h2c connection is closed after the idle limit", async () => {
    const socket = await h2c(rg);
    const started = Date.now();
    await closedByServer(socket, 4000);
    const held = Date.now() - started;
    assert.ok(held >= 800 && held < 4000, `closed after ${held} ms`);
    await waitFor("the gateway releases it", () => rg.grpc.usage().connections === 0);
  });

  it("connections beyond the cap are closed at once; REST keeps answering", async () => {
    const held = [];
    for (let i = 0; i < 4; i++) held.push(await h2c(rg));
    await waitFor("4 connections reach the gateway", () => rg.grpc.usage().connections === 4);
    const extra = await h2c(rg);
    await closedByServer(extra, 1000);
    assert.equal(rg.grpc.usage().connections, 4);
    const rest = await fetch(`${rg.endpoints.api}/v1/projects/${PROJECT}/secrets`, {
      headers: { authorization: `Bearer ${await rg.accessTokenFor(`user:${OWNER}`)}` },
    });
    assert.equal(rest.status, 200);
    for (const socket of held) socket.destroy();
    await waitFor("the gateway releases them", () => rg.grpc.usage().connections === 0);
  });

  it("authenticated calls share the byte budget, stalled ones end DEADLINE_EXCEEDED, then calls are answered", async () => {
    const authorization = `Bearer ${await rg.accessTokenFor(`user:${OWNER}`)}`;
    const stalled = [0, 1, 2].map(() => rawCall(rg, ACCESS, authorization));
    for (const call of stalled) call.stream.write(partialMessage(maxBodyBytes - 16, 1000));
    // Two calls fit the budget (one largest message each); the third waits with its stream paused.
    await waitFor(
      "two calls reserve the budget, one waits",
      () => rg.grpc.usage().reservedBytes === 2 * maxBodyBytes && rg.grpc.usage().waitingCalls === 1,
    );
    const statuses = await Promise.all(stalled.map((call) => call.answered));
    for (const status of statuses) assert.equal(status["grpc-status"], String(grpc.status.DEADLINE_EXCEEDED));
    for (const call of stalled) call.session.destroy();
    assert.deepEqual(
      { reservedBytes: rg.grpc.usage().reservedBytes, waitingCalls: rg.grpc.usage().waitingCalls },
      { reservedBytes: 0, waitingCalls: 0 },
    );
    const metadata = new grpc.Metadata();
    metadata.set("authorization", authorization);
    const answer = await unary(apiPort(rg), LIST, listSecretsMessage(), metadata);
    assert.ok(Buffer.isBuffer(answer), (answer as grpc.ServiceError).details);
  });
});
