// What runs beside each instance: its metadata server and its egress proxy, reached over loopback ports
// (process isolation) or over unix sockets relayed into the instance's own network namespace (netns). The
// sockets are in a directory only runguard can enter; in process isolation the loopback ports in front of them
// let through only the instance's own uid (runtime/peer-credentials.ts).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { connect, createServer } from "node:net";
import type { MetadataServer } from "../metadata/metadata-server.js";
import type { EgressProxy } from "../egress/egress-proxy.js";
import type { IsolationMode } from "./isolation.js";
import type { InstanceNetworkEnv } from "./container-env.js";
import { listenForUid } from "./peer-credentials.js";

/** Fixed loopback ports inside an instance's own network namespace. */
export const INSIDE = { metadata: 8901, egress: 8902, api: 8903 } as const;

export interface Sidecars {
  network: InstanceNetworkEnv;
  apiEndpoint?: string;
  /** netns only: the unix sockets the namespace's relays connect to, and the inbound one. */
  sockets?: { dir: string; inbound: string; outbound: Array<{ port: number; socket: string }> };
  /** netns only: files bound at their paths inside the instance (name resolution, the CA bundle). */
  guestFiles?: Array<{ source: string; target: string }>;
  stop(): Promise<void>;
}

export async function startSidecars(
  mode: IsolationMode,
  metadata: MetadataServer,
  egress: EgressProxy,
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
        ? await uidOnlyPorts(place.instanceUid, metadata, egress, socket)
        : {
            meta: await metadata.listen("127.0.0.1", 0),
            proxy: await egress.listen("127.0.0.1", 0),
            close: async () => {},
          };
    return {
      network: {
        metadataHostPort: `127.0.0.1:${ports.meta.port}`,
        egressProxyUrl: `http://127.0.0.1:${ports.proxy.port}`,
        ...trust,
      },
      ...(apiEndpoint ? { apiEndpoint } : {}),
      async stop() {
        await Promise.all([ports.close(), metadata.close(), egress.close()]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  await metadata.listenPath(socket("metadata"));
  await egress.listenPath(socket("egress"));
  const outbound: Array<{ port: number; socket: string }> = [
    { port: INSIDE.metadata, socket: socket("metadata") },
    { port: INSIDE.egress, socket: socket("egress") },
  ];
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
    outbound.push({ port: INSIDE.api, socket: socket("api") });
  }
  return {
    network: {
      metadataHostPort: `127.0.0.1:${INSIDE.metadata}`,
      egressProxyUrl: `http://127.0.0.1:${INSIDE.egress}`,
      ...trust,
    },
    ...(relay ? { apiEndpoint: `127.0.0.1:${INSIDE.api}` } : {}),
    sockets: { dir, inbound: socket("inbound"), outbound },
    async stop() {
      await Promise.all([
        metadata.close(),
        egress.close(),
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
