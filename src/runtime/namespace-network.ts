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

/**
 * Loopback ports the relays for other addresses really listen on: the namespace's NAT redirects
 * `address:port` there, so that an app may still listen on every address at any port (80 and 443 included)
 * without colliding with 169.254.169.254:80 or the Google API address.
 */
const REDIRECT_BASE_PORT = 58_900;

/** Redirects each relay's address:port to its loopback port; false where the kernel or nft cannot. */
function redirectRelays(relays: Array<{ relay: NamespaceRelay; port: number }>): boolean {
  if (relays.length === 0) return true;
  const rules = relays.map(
    ({ relay, port }) => `    ip daddr ${relay.host} tcp dport ${relay.port} redirect to :${port}`,
  );
  const ruleset = [
    "table ip runguard {",
    "  chain output {",
    "    type nat hook output priority -100;",
    ...rules,
    "  }",
    "}",
    "",
  ];
  try {
    execFileSync("nft", ["-f", "-"], { input: ruleset.join("\n"), stdio: ["pipe", "ignore", "ignore"] });
    return true;
  } catch {
    return false;
  }
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
  const onLoopback = plan.outbound.filter((relay) => relay.host === "127.0.0.1");
  const elsewhere = plan.outbound
    .filter((relay) => relay.host !== "127.0.0.1")
    .map((relay, index) => ({ relay, port: REDIRECT_BASE_PORT + index }));
  const redirected = redirectRelays(elsewhere);
  await Promise.all([
    ...onLoopback.map(listenTcp),
    // Without NAT the relays listen on the addresses themselves (an app then cannot take those ports on them).
    ...elsewhere.map(({ relay, port }) => listenTcp(redirected ? { ...relay, host: "127.0.0.1", port } : relay)),
  ]);
  await serveDns(plan.dns);
}
