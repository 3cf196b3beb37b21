// Who is on the other end of a loopback TCP connection. In process isolation an instance's metadata server
// and egress proxy listen on loopback ports every local process can reach, so each connection's peer is
// looked up (the kernel's socket table, /proc/net/tcp and tcp6, lists the uid that owns each socket) and
// anyone but the instance's own uid is refused before a byte of the request is read.
import { readFile } from "node:fs/promises";
import { connect, createServer, type Socket } from "node:net";

/** The kernel's notation of an address:port in /proc/net/tcp{,6} (IPv4 little-endian per 32-bit word). */
function procAddress(address: string, port: number): string[] {
  const portHex = port.toString(16).toUpperCase().padStart(4, "0");
  const v4 = address.replace(/^::ffff:/, "");
  if (/^\d+\.\d+\.\d+\.\d+$/.test(v4)) {
    const word = Buffer.from(v4.split(".").map(Number)).readUInt32LE(0);
    const hex = word.toString(16).toUpperCase().padStart(8, "0");
    // As an IPv4 socket, or as a v4-mapped IPv6 one.
    return [`${hex}:${portHex}`, `0000000000000000FFFF0000${hex}:${portHex}`];
  }
  if (address === "::1") return [`00000000000000000000000001000000:${portHex}`];
  return [];
}

/** The uid owning the socket at the far end of `socket` (a loopback connection), if the kernel lists it. */
export async function loopbackPeerUid(socket: Socket): Promise<number | undefined> {
  const { remoteAddress, remotePort, localAddress, localPort } = socket;
  if (!remoteAddress || !remotePort || !localAddress || !localPort) return undefined;
  const peer = procAddress(remoteAddress, remotePort);
  const us = procAddress(localAddress, localPort);
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid ...
      const fields = line.trim().split(/\s+/);
      if (fields.length < 8) continue;
      if (peer.includes(fields[1] ?? "") && us.includes(fields[2] ?? "")) return Number(fields[7]);
    }
  }
  return undefined;
}

const REFUSAL = "Forbidden: this server answers only its own instance.\n";

/**
 * A loopback port that lets through only connections from processes of `uid` and relays them to the unix
 * socket `target` (a server in a directory only runguard can enter). Others get 403 with a short text.
 */
export function listenForUid(uid: number, target: string): Promise<{ port: number; close(): Promise<void> }> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    open.add(client);
    client.once("close", () => open.delete(client));
    client.on("error", () => client.destroy());
    client.pause();
    void loopbackPeerUid(client).then((peer) => {
      if (client.destroyed) return;
      if (peer !== uid) {
        client.end(
          `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: ${REFUSAL.length}\r\nconnection: close\r\n\r\n${REFUSAL}`,
        );
        return;
      }
      const upstream = connect(target);
      open.add(upstream);
      upstream.once("close", () => open.delete(upstream));
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : 0,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of open) socket.destroy();
          }),
      });
    });
  });
}
