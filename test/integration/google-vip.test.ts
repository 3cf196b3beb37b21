// The Google API virtual address and the private-address relays of an instance, on their unix sockets: what
// they answer, and that hostile input gets a 4xx or a closed connection, never a crash.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { connect as connectNet, createServer as createTcpServer, type AddressInfo } from "node:net";
import { connect as connectTls, type TLSSocket } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createEnvelope } from "../../src/secrets/envelope.js";
import { openLocalCa, type LocalCa } from "../../src/network/local-ca.js";
import { decideEgress, type EgressContext } from "../../src/egress/egress-policy.js";
import { createGoogleVip, type GoogleVip } from "../../src/egress/google-vip.js";
import { privateAddressRelays, type PrivateAddressRelay } from "../../src/egress/private-tcp.js";
import type { PrivateResource } from "../../src/network/vpc-types.js";

const answeredBy = (who: string) => (req: IncomingMessage, res: ServerResponse) =>
  res.end(`${who} ${req.headers.host ?? ""} ${req.url ?? ""}`);

function context(overrides: Partial<EgressContext> = {}): EgressContext {
  return {
    projectId: "p",
    privateResources: () => [],
    serveRunApp: (req, res, source) => answeredBy(`run.app(${source.kind})`)(req, res),
    serveGoogleApis: answeredBy("apis"),
    ...overrides,
  };
}

/** Sends raw bytes to a unix socket and returns everything the server sent back before closing. */
function exchange(path: string, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connectNet(path, () => socket.end(bytes));
    let answer = "";
    socket.on("data", (chunk) => (answer += chunk.toString("latin1")));
    socket.on("error", () => resolve(answer));
    socket.on("close", () => resolve(answer));
  });
}

function overTls(path: string, servername: string | undefined, ca: LocalCa, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connectTls({ path, ...(servername ? { servername } : {}), ca: ca.caCertPem }, () =>
      socket.end(request),
    );
    let answer = "";
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
    socket.on("error", (error) => resolve(`error: ${error.message}`));
    socket.on("close", () => resolve(answer));
  });
}

describe("the Google API virtual address", () => {
  let dir: string;
  let ca: LocalCa;
  let vip: GoogleVip;
  const paths = () => ({ https: join(dir, "https.sock"), http: join(dir, "http.sock") });
  /** The SNI names of the connections handed to the gRPC gateway. */
  const grpcConnections: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "rg-vip-"));
    ca = await openLocalCa(join(dir, "ca"), createEnvelope(randomBytes(32)));
    const ctx = context({
      vpc: { network: "projects/p/global/networks/n", egress: "all-traffic" },
      serveGrpc: (connection) => {
        grpcConnections.push(String((connection as TLSSocket).servername));
        connection.destroy();
      },
    });
    vip = createGoogleVip({ ca, decide: (target) => decideEgress(ctx, target) });
    await vip.listenPaths(paths());
  });
  after(async () => {
    await vip.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers Google's and Cloud Run's names over plain HTTP with the egress decision", async () => {
    const apis = await exchange(paths().http, "GET /v1/x HTTP/1.1\r\nhost: secretmanager.googleapis.com\r\n\r\n");
    assert.match(apis, /^HTTP\/1\.1 200[\s\S]*apis secretmanager\.googleapis\.com \/v1\/x$/);
    const run = await exchange(paths().http, "GET / HTTP/1.1\r\nhost: svc-abc.a.run.app\r\n\r\n");
    assert.match(run, /run\.app\(internal\) svc-abc\.a\.run\.app \/$/);
  });

  it("answers over TLS with a certificate of runguard's CA for the SNI name", async () => {
    const answer = await overTls(
      paths().https,
      "oauth2.googleapis.com",
      ca,
      "GET /tokeninfo HTTP/1.1\r\nhost: oauth2.googleapis.com\r\nconnection: close\r\n\r\n",
    );
    assert.match(answer, /^HTTP\/1\.1 200[\s\S]*apis oauth2\.googleapis\.com \/tokeninfo$/);
  });

  it("hands a TLS client that offers only h2 (gRPC) for a Google API name to the gRPC gateway", async () => {
    const alpn = (servername: string, protocols: string[]) =>
      new Promise<string>((resolve) => {
        const socket = connectTls({ path: paths().https, servername, ALPNProtocols: protocols, ca: ca.caCertPem });
        socket.on("secureConnect", () => resolve(socket.alpnProtocol || "none"));
        socket.on("error", (error) => resolve(`error: ${error.message}`));
      });
    assert.equal(await alpn("secretmanager.googleapis.com", ["h2", "http/1.1"]), "http/1.1");
    assert.deepEqual(grpcConnections, []);
    assert.equal(await alpn("secretmanager.googleapis.com", ["h2"]), "h2");
    // Cloud Run services answer HTTP/1.1 here: an h2-only client gets no protocol.
    assert.match(await alpn("svc-abc.a.run.app", ["h2"]), /^error/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(grpcConnections, ["secretmanager.googleapis.com"]);
    // h2c is not served at the address's port 80 (Google serves gRPC over TLS only): the HTTP/1.1 parser refuses it.
    assert.match(await exchange(paths().http, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), /^(HTTP\/1\.1 4\d\d |)/);
  });

  it("hostile or foreign input gets a 4xx or a failed handshake, and the server keeps serving", async () => {
    const http = paths().http;
    assert.match(await exchange(http, "GET / HTTP/1.1\r\nhost: www.example.com\r\n\r\n"), /^HTTP\/1\.1 421 /);
    assert.match(await exchange(http, "GET / HTTP/1.1\r\nhost: 10.8.0.5:5432\r\n\r\n"), /^HTTP\/1\.1 421 /);
    assert.match(await exchange(http, "GET / HTTP/1.0\r\n\r\n"), /^HTTP\/1\.1 400 /);
    assert.match(await exchange(http, "GET / HTTP/1.1\r\nhost: [::1\r\n\r\n"), /^HTTP\/1\.1 4\d\d /);
    assert.match(await exchange(http, "\x00\x01garbage\r\n\r\n"), /^HTTP\/1\.1 400 /);
    assert.match(await exchange(http, randomBytes(4096)), /^(HTTP\/1\.1 4\d\d |)/);
    const mismatch = await overTls(
      paths().https,
      "iam.googleapis.com",
      ca,
      "GET / HTTP/1.1\r\nhost: svc.a.run.app\r\nconnection: close\r\n\r\n",
    );
    assert.match(mismatch, /^HTTP\/1\.1 421 /);
    assert.match(await overTls(paths().https, "www.example.com", ca, "GET / HTTP/1.1\r\n\r\n"), /^error: /);
    assert.match(await overTls(paths().https, undefined, ca, "GET / HTTP/1.1\r\n\r\n"), /^error: /);
    assert.equal(await exchange(paths().https, randomBytes(2048)), "");
    const still = await exchange(http, "GET / HTTP/1.1\r\nhost: www.gstatic.com\r\n\r\n");
    assert.match(still, /^HTTP\/1\.1 200 /);
  });
});

describe("raw TCP to private addresses", () => {
  let dir: string;
  let relays: PrivateAddressRelay[] = [];
  const echo = createTcpServer((socket) => socket.pipe(socket));
  let resources: PrivateResource[] = [];
  const resource = (network: string, address: string, port: number): PrivateResource => ({
    resource: `${network}/privateResources/${address}:${port}`,
    projectId: "p",
    network,
    address,
    port,
    target: { host: "127.0.0.1", port: (echo.address() as AddressInfo).port },
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "rg-tcp-"));
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    resources = [
      resource("projects/p/global/networks/n", "10.8.0.5", 5432),
      resource("projects/p/global/networks/n", "10.8.0.5", 5432),
      resource("projects/p/global/networks/other", "10.9.0.5", 5432),
    ];
  });
  after(async () => {
    await Promise.all(relays.map((relay) => relay.close()));
    echo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("only the addresses the revision's network routes get a relay, and each connection is checked again", async () => {
    let current = resources;
    const ctx = context({
      vpc: { network: "projects/p/global/networks/n", egress: "private-ranges-only" },
      privateResources: () => current,
    });
    relays = privateAddressRelays(current, (target) => decideEgress(ctx, target));
    assert.deepEqual(
      relays.map((relay) => `${relay.address}:${relay.port}`),
      ["10.8.0.5:5432"],
    );
    assert.deepEqual(
      privateAddressRelays(current, (target) => decideEgress(context(), target)),
      [],
    );
    const path = join(dir, "tcp-0.sock");
    await relays[0]!.listenPath(path);
    assert.equal(await exchange(path, "ping"), "ping");
    current = []; // the resource was removed since the instance started
    assert.equal(await exchange(path, "ping"), "");
  });
});
