// What an instance's own network namespace holds, set up by the launcher before the app starts: loopback up,
// the addresses that stand for Google's services (the metadata server at 169.254.169.254, the Google API
// virtual address) and for the private resources the revision may reach, each added /32 on loopback, so that no
// packet to them ever leaves the namespace; a TCP relay on each such address:port to a unix socket runguard
// serves outside; and a DNS server on 127.0.0.1:53. Kept free of runguard's heavier modules: the launcher
// loads it for every instance.
import { execFile } from "node:child_process";
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

/**
 * Runs a command with `input` on its stdin; resolves whether it succeeded. Asynchronous, so that the launcher's
 * steps that do not depend on each other run side by side (each spawn costs about 10 ms here).
 */
export function runWithInput(file: string, args: string[], input: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = execFile(file, args, (error) => resolve(!error));
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(input);
  });
}

/** The part of a namespace's network that is the same for every instance, set up before the instance is known. */
export interface SpareNetwork {
  addresses: string[];
  /** Relays on addresses other than 127.0.0.1, redirected in this order to REDIRECT_BASE_PORT + index. */
  redirects: Array<{ host: string; port: number }>;
}

/** What the launcher did before it knew its instance: loopback up, addresses added, redirects in place. */
export interface PreparedNetwork extends SpareNetwork {
  /** Whether nft loaded the redirects (without NAT the relays listen on the addresses themselves). */
  redirected: boolean;
}

const redirectRule = (host: string, port: number, to: number) =>
  `ip daddr ${host} tcp dport ${port} redirect to :${to}`;

/**
 * Redirects each relay's address:port to its loopback port, into a new table or (`added`) the one already
 * loaded; false where the kernel or nft cannot.
 */
function redirectRelays(relays: Array<{ relay: { host: string; port: number }; port: number }>, added = false) {
  if (relays.length === 0) return Promise.resolve(true);
  const rules = relays.map(({ relay, port }) => redirectRule(relay.host, relay.port, port));
  const ruleset = added
    ? rules.map((rule) => `add rule ip runguard output ${rule}`)
    : ["table ip runguard {", "  chain output {", "    type nat hook output priority -100;", ...rules, "  }", "}"];
  return runWithInput("nft", ["-f", "-"], ruleset.join("\n") + "\n");
}

/** Loopback up (unless it is) and the addresses on it, in one `ip` run. */
async function addAddresses(addresses: string[], loopbackIsUp: boolean): Promise<void> {
  const commands = [
    ...(loopbackIsUp ? [] : ["link set lo up"]),
    ...[...new Set(addresses)].map((address) => `addr add ${address}/32 dev lo`),
  ];
  if (commands.length === 0) return;
  if (!(await runWithInput("ip", ["-batch", "-"], commands.join("\n") + "\n")))
    throw new Error(`ip could not set up the namespace's loopback (${commands.join("; ")})`);
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

/**
 * Sets up what every instance's namespace has, before the instance is known (a spare launcher,
 * runtime/warm-launcher.ts): each step costs a process start (about 10 ms here), off the cold-start path.
 */
export async function prepareNetwork(spare: SpareNetwork): Promise<PreparedNetwork> {
  const redirects = spare.redirects.map((relay, index) => ({ relay, port: REDIRECT_BASE_PORT + index }));
  const [, redirected] = await Promise.all([addAddresses(spare.addresses, false), redirectRelays(redirects)]);
  return { ...spare, redirected };
}

/** Runs inside the namespace, as its root, before the app starts; adds to what `prepareNetwork` did, if it ran. */
export async function setUpNamespaceNetwork(plan: NamespaceNetwork, prepared?: PreparedNetwork): Promise<void> {
  const onLoopback = plan.outbound.filter((relay) => relay.host === "127.0.0.1");
  const key = (relay: { host: string; port: number }) => `${relay.host}:${relay.port}`;
  const preparedOrder = new Map((prepared?.redirects ?? []).map((relay, index) => [key(relay), index]));
  let next = preparedOrder.size;
  const elsewhere = plan.outbound
    .filter((relay) => relay.host !== "127.0.0.1")
    .map((relay) => ({ relay, port: REDIRECT_BASE_PORT + (preparedOrder.get(key(relay)) ?? next++) }));
  const added = elsewhere.filter(({ relay }) => !preparedOrder.has(key(relay)));
  const present = new Set(prepared?.addresses ?? []);
  const [, addedRedirected] = await Promise.all([
    addAddresses(
      plan.addresses.filter((address) => !present.has(address)),
      prepared !== undefined,
    ),
    // Without a prepared table, every relay is added (in a new one); with a table nft could not load, none is.
    prepared === undefined || prepared.redirected ? redirectRelays(added, prepared !== undefined) : false,
  ]);
  const isRedirected = (relay: NamespaceRelay) =>
    preparedOrder.has(key(relay)) ? prepared?.redirected === true : addedRedirected;
  await Promise.all([
    ...onLoopback.map(listenTcp),
    // Without NAT the relays listen on the addresses themselves (an app then cannot take those ports on them).
    ...elsewhere.map(({ relay, port }) =>
      listenTcp(isRedirected(relay) ? { ...relay, host: "127.0.0.1", port } : relay),
    ),
  ]);
  await serveDns(plan.dns);
}
