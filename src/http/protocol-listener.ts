// One listener for every protocol a Google API endpoint speaks: the first bytes of a connection tell TLS
// (a ClientHello, 0x16), the HTTP/2 prior-knowledge preface in clear (h2c, what gRPC without TLS sends) and
// HTTP/1.1 apart. TLS is terminated with a certificate for the SNI name, and ALPN picks the protocol inside:
// h2 only for a client that offers h2 and not http/1.1 (gRPC clients offer only h2; curl, gaxios and Python
// offer http/1.1 too and get HTTP/1.1 REST). HTTP/1.1 goes to a node:http server, h2 to a gRPC gateway.
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { TLSSocket, type SecureContext } from "node:tls";

const TLS_HANDSHAKE = 0x16;
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** How long a client may take to send its first bytes, and to finish a TLS handshake. */
const FIRST_BYTES_TIMEOUT_MS = 10_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** What takes HTTP/1.1 connections: a node:http server (which need not listen: connections are handed to it). */
export interface HttpServer {
  emit(event: "connection", socket: Duplex): boolean;
  listeners(event: "connection"): unknown[];
  removeAllListeners(event: "connection"): unknown;
  on(event: "connection", listener: (socket: Duplex) => void): unknown;
}

export interface ProtocolListenerOptions {
  http: Pick<HttpServer, "emit">;
  /** A certificate for a name this endpoint serves; undefined refuses the handshake. */
  contextFor(servername: string): Promise<SecureContext> | undefined;
  /** Whether a TLS connection for this name may speak h2 (the gRPC gateway answers it). */
  h2For(servername: string): boolean;
  /** Takes an h2 connection (TLS-decrypted, or h2c). */
  h2(connection: Duplex): void;
  /** Whether clear connections are served (HTTP/1.1, and h2c when `h2c`). Default true. */
  clear?: boolean;
  h2c?: boolean;
  /** Whether a clear connection may be TLS. Default true. */
  tls?: boolean;
  /** Shorter limits for tests. */
  timeoutsMs?: { firstBytes?: number; handshake?: number };
}

export interface ProtocolListener {
  /** Serves one accepted connection (or a CONNECT tunnel, with `servername` the CONNECT target's host). */
  accept(socket: Duplex, options?: { servername?: string; tlsOnly?: boolean }): void;
  /** Ends every connection it holds (those handed over belong to their server). */
  close(): void;
}

/** ALPN: h2 only for clients that cannot speak HTTP/1.1 (gRPC); everyone else gets HTTP/1.1. */
export function chooseAlpn(offered: readonly string[], h2Allowed: boolean): string | undefined {
  if (offered.includes("h2") && !offered.includes("http/1.1")) return h2Allowed ? "h2" : undefined;
  if (offered.includes("http/1.1")) return "http/1.1";
  return undefined;
}

export function createProtocolListener(options: ProtocolListenerOptions): ProtocolListener {
  const pending = new Set<Duplex>();
  const firstBytesMs = options.timeoutsMs?.firstBytes ?? FIRST_BYTES_TIMEOUT_MS;
  const handshakeMs = options.timeoutsMs?.handshake ?? HANDSHAKE_TIMEOUT_MS;
  const clearAllowed = options.clear !== false;
  const tlsAllowed = options.tls !== false;

  const hold = (socket: Duplex, ms: number): (() => void) => {
    pending.add(socket);
    const timer = setTimeout(() => socket.destroy(), ms);
    const release = () => {
      clearTimeout(timer);
      pending.delete(socket);
    };
    socket.once("close", release);
    return () => {
      socket.off("close", release);
      release();
    };
  };

  const toHttp = (socket: Duplex) => {
    options.http.emit("connection", socket);
    // The server reads what was put back (unshift) once the socket flows again.
    socket.resume();
  };

  const terminateTls = (socket: Duplex, servername: string | undefined) => {
    const release = hold(socket, handshakeMs);
    const defaultContext = servername ? options.contextFor(servername) : undefined;
    const start = (context: SecureContext | undefined) => {
      const tls = new TLSSocket(
        socket as Socket,
        {
          isServer: true,
          ...(context ? { secureContext: context } : {}),
          SNICallback: (name, done) => {
            const found = options.contextFor(name.toLowerCase());
            if (!found) return done(new Error(`no certificate for ${name}`));
            found.then(
              (ctx) => done(null, ctx),
              (error: Error) => done(error),
            );
          },
          ALPNCallback: ({ servername: name, protocols }) =>
            chooseAlpn(protocols, options.h2For((name || servername || "").toLowerCase())),
        } as ConstructorParameters<typeof TLSSocket>[1],
      );
      tls.on("error", () => tls.destroy());
      tls.once("secure", () => {
        release();
        // A TLSSocket made without a tls.Server never clears `secureConnecting` (only a server's handshake
        // callback does), and Node's HTTP/2 session waits for 'secureConnect' while it is set: it would hang.
        (tls as { secureConnecting?: boolean }).secureConnecting = false;
        if (tls.alpnProtocol === "h2") options.h2(tls);
        else toHttp(tls);
      });
      tls.once("close", () => {
        release();
        socket.destroy();
      });
    };
    if (!defaultContext) return start(undefined);
    defaultContext.then(start, () => socket.destroy());
  };

  const sniff = (socket: Duplex, servername: string | undefined, tlsOnly: boolean) => {
    const release = hold(socket, firstBytesMs);
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const isTls = seen[0] === TLS_HANDSHAKE;
      // Enough of the preface to tell h2c from HTTP/1.1 (an HTTP/1.1 method never starts "PRI *").
      const prefaceSoFar = seen.subarray(0, H2_PREFACE.length);
      const maybePreface = !isTls && H2_PREFACE.subarray(0, prefaceSoFar.length).equals(prefaceSoFar);
      if (maybePreface && seen.length < H2_PREFACE.length) return;
      socket.off("data", onData);
      socket.pause();
      release();
      socket.unshift(seen);
      if (isTls && tlsAllowed) return terminateTls(socket, servername);
      if (tlsOnly || !clearAllowed || isTls) return void socket.destroy();
      if (maybePreface && options.h2c) return options.h2(socket);
      toHttp(socket);
    };
    socket.on("data", onData);
    socket.on("error", () => socket.destroy());
    socket.resume();
  };

  return {
    accept(socket, acceptOptions = {}) {
      sniff(socket, acceptOptions.servername?.toLowerCase(), acceptOptions.tlsOnly === true);
    },
    close() {
      for (const socket of pending) socket.destroy();
      pending.clear();
    },
  };
}

/**
 * Makes `server` (listening on its port) sniff each accepted connection instead of parsing HTTP/1.1 at once:
 * its own connection handler becomes the HTTP/1.1 path of the listener.
 */
export function sniffConnections(server: HttpServer, options: Omit<ProtocolListenerOptions, "http">): ProtocolListener {
  const httpHandlers = server.listeners("connection") as ((socket: Duplex) => void)[];
  server.removeAllListeners("connection");
  const proxy = {
    emit: (_event: "connection", socket: Duplex) => {
      for (const handler of httpHandlers) handler.call(server, socket);
      return true;
    },
  };
  const listener = createProtocolListener({ ...options, http: proxy });
  server.on("connection", (socket: Duplex) => listener.accept(socket));
  return listener;
}
