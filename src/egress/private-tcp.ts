// Raw TCP to a VPC private address (a database at 10.8.0.5:5432), as a driver that ignores proxies opens it.
// Inside the instance's network namespace the address exists on the loopback device and its port is relayed to
// a unix socket outside; the relay here checks the revision's egress policy again for every connection and
// connects only to the loopback endpoint the private resource stands for. Nothing ever connects to the private
// address itself.
import { connect, createServer, type Socket } from "node:net";
import type { PrivateResource } from "../network/vpc-types.js";
import { isLoopbackHost, type EgressDecision, type EgressTarget } from "./egress-proxy.js";

export interface PrivateAddressRelay {
  address: string;
  port: number;
  listenPath(path: string): Promise<void>;
  close(): Promise<void>;
}

type Decide = (target: EgressTarget) => EgressDecision;

/** Where a raw connection to address:port goes under this policy: a loopback endpoint, or nowhere. */
function loopbackTargetOf(decide: Decide, address: string, port: number): { host: string; port: number } | undefined {
  const decision = decide({ scheme: "tcp", host: address, port });
  return decision.kind === "forward" && isLoopbackHost(decision.host) ? decision : undefined;
}

/**
 * The registered private addresses this revision's VPC access routes (connector or Direct VPC, either egress
 * setting), each with its relay. The others are never made to exist in the instance's namespace.
 */
export function privateAddressRelays(resources: PrivateResource[], decide: Decide): PrivateAddressRelay[] {
  const seen = new Set<string>();
  return resources
    .filter((resource) => loopbackTargetOf(decide, resource.address, resource.port))
    .filter((resource) => {
      const key = `${resource.address}:${resource.port}`;
      return !seen.has(key) && seen.add(key);
    })
    .map((resource) => createPrivateAddressRelay(resource.address, resource.port, decide));
}

function createPrivateAddressRelay(address: string, port: number, decide: Decide): PrivateAddressRelay {
  const connections = new Set<Socket>();
  // Half-open both ways: a client may finish sending and still read the answer.
  const server = createServer({ allowHalfOpen: true }, (client) => {
    connections.add(client);
    client.on("close", () => connections.delete(client));
    client.on("error", () => client.destroy());
    // The resource may have been removed, or the revision's access changed, since the instance started.
    const target = loopbackTargetOf(decide, address, port);
    if (!target) return void client.destroy();
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  return {
    address,
    port,
    listenPath(path) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(path, () => resolve());
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        for (const socket of connections) socket.destroy();
      });
    },
  };
}
