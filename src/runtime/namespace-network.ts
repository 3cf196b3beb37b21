// What an instance's own network namespace holds, set up by the launcher before the app starts: loopback up,
// the addresses that stand for Google's services (the metadata server at 169.254.169.254, the Google API
// virtual address) and for the private resources the revision may reach, each added /32 on loopback, so that no
// packet to them ever leaves the namespace; a TCP relay on each such address:port to a unix socket runguard
// serves outside; and a DNS server on 127.0.0.1:53. Kept free of runguard's heavier modules: the launcher
// loads it for every instance.
import { execFileSync } from "node:child_process";
import { connect, createServer, type Socket } from "node:net";
import { serveDns, type DnsRecord } from "./instance-dns.js";

/** The metadata server's address, as on Google Cloud. */
export const METADATA_ADDRESS = "169.254.169.254";

/** A TCP listener at host:port inside the namespace, relayed to a unix socket outside. */
export interface NamespaceRelay {
  host: string;
  port: number;
  socket: string;
}

export interface NamespaceNetwork {
  /** Added as /32 on the namespace's loopback device (127.0.0.1 is there already). */
  addresses: string[];
  outbound: NamespaceRelay[];
  /** What the namespace's DNS server answers; every other name is NXDOMAIN. */
  dns: DnsRecord[];
}

export function pipeBoth(a: Socket, b: Socket): void {
  a.on("error", () => b.destroy());
  b.on("error", () => a.destroy());
  a.pipe(b).pipe(a);
}

function listenTcp(relay: NamespaceRelay): Promise<void> {
  return new Promise((resolve, reject) => {
    // Half-open both ways: a client may finish sending and still read the answer.
    const server = createServer({ allowHalfOpen: true }, (client) =>
      pipeBoth(client, connect({ path: relay.socket, allowHalfOpen: true })),
    );
    server.once("error", reject);
    server.listen(relay.port, relay.host, () => resolve());
  });
}

/** Runs inside the namespace, as its root, before the app starts. */
export async function setUpNamespaceNetwork(plan: NamespaceNetwork): Promise<void> {
  execFileSync("ip", ["link", "set", "lo", "up"]);
  for (const address of new Set(plan.addresses)) execFileSync("ip", ["addr", "add", `${address}/32`, "dev", "lo"]);
  await Promise.all(plan.outbound.map(listenTcp));
  await serveDns(plan.dns);
}
