// What runs beside each instance: its metadata server and its egress proxy, reached over loopback ports
// (process isolation) or over unix sockets relayed into the instance's own network namespace (netns). The
// sockets are in a directory only runguard can enter; in process isolation the loopback ports in front of them
// let through only the instance's own uid (runtime/peer-credentials.ts). In netns isolation the namespace also
// gets the addresses workloads use unchanged: the metadata server at 169.254.169.254:80, the Google API virtual
// address (TLS and HTTP, egress/google-vip.ts) for Google's and Cloud Run's names, the private addresses the
// revision's VPC access reaches (raw TCP, egress/private-tcp.ts), a DNS server for those names, and the files
// that make the instance use them (runtime/guest-files.ts).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { connect, createServer } from "node:net";
import type { MetadataServer } from "../metadata/metadata-server.js";
import type { EgressProxy } from "../egress/egress-proxy.js";
import { GOOGLE_API_VIP } from "../egress/google-vip.js";
import type { InstanceEgress } from "../egress/instance-egress.js";
import type { IsolationMode } from "./isolation.js";
import type { InstanceNetworkEnv } from "./container-env.js";
import { listenForUid } from "./peer-credentials.js";
import type { DnsRecord } from "./instance-dns.js";
import { METADATA_ADDRESS, type NamespaceNetwork, type NamespaceRelay } from "./namespace-network.js";
import { writeGuestFiles, type GuestFile } from "./guest-files.js";

/** Fixed loopback ports inside an instance's own network namespace. */
export const INSIDE = { metadata: 8901, egress: 8902, api: 8903 } as const;

/** What the namespace's DNS server knows; every other name is NXDOMAIN (there is no internet). */
export const INSTANCE_DNS: DnsRecord[] = [
  { name: "metadata.google.internal", address: METADATA_ADDRESS },
  { name: "*.googleapis.com", address: GOOGLE_API_VIP },
  { name: "www.gstatic.com", address: GOOGLE_API_VIP },
  { name: "*.run.app", address: GOOGLE_API_VIP },
];

export interface Sidecars {
  network: InstanceNetworkEnv;
  apiEndpoint?: string;
  /**
   * netns only: the inbound unix socket, and what the launcher sets up in the namespace: addresses on loopback,
   * relays from them to the unix sockets here, the DNS server's names.
   */
  sockets?: NamespaceNetwork & { dir: string; inbound: string };
  /** netns only: files to bind at their paths inside the instance (resolv.conf, hosts, the CA bundle). */
  guestFiles: GuestFile[];
  stop(): Promise<void>;
}

export async function startSidecars(
  mode: IsolationMode,
  metadata: MetadataServer,
  egress: InstanceEgress,
  ca: { bundlePath: string; caCertPath: string },
  apiEndpoint: string | undefined,
  /** A new directory only runguard can enter (instance-dirs.ts), and the uid the instance runs as, if its own. */
  place: { socketDir: string; instanceUid?: number },
): Promise<Sidecars> {
  const trust = { caBundlePath: ca.bundlePath, caCertPath: ca.caCertPath };
  const dir = place.socketDir;
  const socket = (name: string) => join(dir, `${name}.sock`);
  if (mode === "process") {
    // On the host's network: loopback ports the instance's libraries reach, which admit only the instance's
    // uid when it has one of its own (peer-credentials.ts) and anyone otherwise.
    const ports =
      place.instanceUid !== undefined
        ? await uidOnlyPorts(place.instanceUid, metadata, egress.proxy, socket)
        : {
            meta: await metadata.listen("127.0.0.1", 0),
            proxy: await egress.proxy.listen("127.0.0.1", 0),
            close: async () => {},
          };
    return {
      network: {
        metadataHostPort: `127.0.0.1:${ports.meta.port}`,
        egressProxyUrl: `http://127.0.0.1:${ports.proxy.port}`,
        ...trust,
      },
      ...(apiEndpoint ? { apiEndpoint } : {}),
      guestFiles: [],
      async stop() {
        await Promise.all([ports.close(), metadata.close(), egress.proxy.close()]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const outbound = await listenForNamespace(metadata, egress, socket);
  const relay = apiEndpoint
    ? createServer((client) => {
        const [host, port] = apiEndpoint.split(":");
        const upstream = connect({ host: host ?? "127.0.0.1", port: Number(port) });
        client.on("error", () => upstream.destroy());
        upstream.on("error", () => client.destroy());
        client.pipe(upstream).pipe(client);
      })
    : undefined;
  if (relay) {
    await new Promise<void>((resolve) => relay.listen(socket("api"), resolve));
    outbound.push({ host: "127.0.0.1", port: INSIDE.api, socket: socket("api") });
  }
  const privateAddresses = egress.privateAddresses.map((relay) => relay.address);
  return {
    // No metadata variables: the metadata server is where Google's libraries look by default.
    network: { egressProxyUrl: `http://127.0.0.1:${INSIDE.egress}`, ...trust },
    ...(relay ? { apiEndpoint: `127.0.0.1:${INSIDE.api}` } : {}),
    sockets: {
      dir,
      inbound: socket("inbound"),
      outbound,
      addresses: [METADATA_ADDRESS, GOOGLE_API_VIP, ...new Set(privateAddresses)],
      dns: INSTANCE_DNS,
    },
    guestFiles: writeGuestFiles(dir, ca.bundlePath),
    async stop() {
      await Promise.all([
        metadata.close(),
        egress.proxy.close(),
        egress.vip.close(),
        ...egress.privateAddresses.map((relay) => relay.close()),
        new Promise<void>((r) => (relay ? relay.close(() => r()) : r())),
      ]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The sidecars on unix sockets in runguard's own directory, reached through loopback ports that admit one uid. */
async function uidOnlyPorts(
  uid: number,
  metadata: MetadataServer,
  egress: EgressProxy,
  socket: (name: string) => string,
): Promise<{ meta: { port: number }; proxy: { port: number }; close(): Promise<void> }> {
  await metadata.listenPath(socket("metadata"));
  await egress.listenPath(socket("egress"));
  const meta = await listenForUid(uid, socket("metadata"));
  const proxy = await listenForUid(uid, socket("egress"));
  return {
    meta,
    proxy,
    async close() {
      await Promise.all([meta.close(), proxy.close()]);
    },
  };
}

/**
 * netns: every sidecar on a unix socket in runguard's directory, and the listeners inside the namespace that
 * relay to them: the metadata server (on loopback and at 169.254.169.254:80), the egress proxy, the Google API
 * virtual address (443 and 80), and each private address the revision may reach, at its own address and port.
 */
async function listenForNamespace(
  metadata: MetadataServer,
  egress: InstanceEgress,
  socket: (name: string) => string,
): Promise<NamespaceRelay[]> {
  await metadata.listenPath(socket("metadata"));
  await egress.proxy.listenPath(socket("egress"));
  await egress.vip.listenPaths({ https: socket("google-https"), http: socket("google-http") });
  const outbound: NamespaceRelay[] = [
    { host: "127.0.0.1", port: INSIDE.metadata, socket: socket("metadata") },
    { host: "127.0.0.1", port: INSIDE.egress, socket: socket("egress") },
    { host: METADATA_ADDRESS, port: 80, socket: socket("metadata") },
    { host: GOOGLE_API_VIP, port: 443, socket: socket("google-https") },
    { host: GOOGLE_API_VIP, port: 80, socket: socket("google-http") },
  ];
  for (const [index, relay] of egress.privateAddresses.entries()) {
    await relay.listenPath(socket(`tcp-${index}`));
    outbound.push({ host: relay.address, port: relay.port, socket: socket(`tcp-${index}`) });
  }
  return outbound;
}
