// PLACEHOLDER for the gRPC gateway (helper G, branch h19-grpc, replaces this file): same exports, and until then
// an h2 connection handed over is counted and closed.
import type { Duplex } from "node:stream";
import type { ApiDispatch } from "../server.js";

export interface GrpcGateway {
  injectConnection(connection: Duplex): void;
  close(): Promise<void>;
}

export function createGrpcGateway(options: {
  dispatch: ApiDispatch;
  onUnexpectedError?: (id: string, e: unknown) => void;
}): GrpcGateway {
  void options;
  return {
    injectConnection(connection) {
      connection.destroy();
    },
    async close() {},
  };
}
