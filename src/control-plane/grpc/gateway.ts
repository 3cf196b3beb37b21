// gRPC beside REST: each unary method of the served services is transcoded to its REST route and answered by
// the same dispatch (authentication, IAM, validation, audit, errors), then converted back to protobuf.
// Connections arrive already decrypted (TLS or h2c, told apart by the transport); this serves HTTP/2 on them.
import type { Duplex } from "node:stream";
import {
  Metadata,
  Server,
  ServerCredentials,
  type ConnectionInjector,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceError,
} from "@grpc/grpc-js";
import type protobuf from "protobufjs";
import { fromProto3JSON, toProto3JSON } from "proto3-json-serializer";
import { ApiError, invalidArgument } from "../../core/errors.js";
import type { ApiName } from "../route.js";
import type { ApiDispatch } from "../server.js";
import { rpcStatusOf, toApiError } from "../respond.js";
import { googleProtos, SERVED_SERVICES, type ServedService } from "./protos.js";
import { httpBindingsOf, transcode } from "./transcode.js";

export interface GrpcGateway {
  injectConnection(connection: Duplex): void;
  close(): Promise<void>;
}

export interface GrpcGatewayOptions {
  dispatch: ApiDispatch;
  onUnexpectedError?: (id: string, e: unknown) => void;
  /** Largest request message accepted (the REST side's maxBodyBytes); larger ones get RESOURCE_EXHAUSTED. */
  maxMessageBytes?: number;
}

/** What grpc-js accepts by default; the REST side's limit is smaller (1 MiB) unless configured. */
const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

const MAX_CONCURRENT_STREAMS = 100;

/** The request headers a REST route reads, from the call's metadata. */
const FORWARDED_METADATA = ["authorization", "user-agent", "x-goog-api-client", "x-goog-request-params"];

type Json = Record<string, unknown>;

export function createGrpcGateway(options: GrpcGatewayOptions): GrpcGateway {
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const server = new Server({
    "grpc.max_receive_message_length": maxBytes,
    "grpc.max_send_message_length": -1,
    // Bounds what one connection can hold in memory at once: streams × message size.
    "grpc.max_concurrent_streams": MAX_CONCURRENT_STREAMS,
  });
  let injector: ConnectionInjector | undefined;
  const ready = () => {
    if (injector) return injector;
    const root = googleProtos();
    for (const service of SERVED_SERVICES) registerService(server, root, service, options);
    injector = server.createConnectionInjector(ServerCredentials.createInsecure());
    return injector;
  };
  const connections = new Set<Duplex>();
  return {
    injectConnection(connection) {
      // Tracked so that close() ends them: an HTTP/2 session left open would keep runguard from exiting.
      connections.add(connection);
      connection.once("close", () => connections.delete(connection));
      try {
        ready().injectConnection(connection);
      } catch (error) {
        // The protos failed to load (a broken install): this connection is refused, runguard keeps serving.
        options.onUnexpectedError?.("grpc-load", error);
        connection.destroy();
      }
    },
    async close() {
      for (const connection of connections) connection.destroy();
      connections.clear();
      injector?.destroy();
      server.forceShutdown();
      await Promise.resolve();
    },
  };
}

const identity = (buffer: Buffer) => buffer;

function registerService(server: Server, root: protobuf.Root, served: ServedService, options: GrpcGatewayOptions) {
  const service = root.lookupService(served.name);
  const statusType = root.lookupType("google.rpc.Status");
  const api = served.host.split(".")[0] as ApiName;
  for (const method of service.methodsArray) {
    const bindings = served.bindings ? (served.bindings[method.name] ?? []) : httpBindingsOf(method);
    // Streaming methods (Logging's TailLogEntries) and methods without a REST form stay UNIMPLEMENTED.
    if (method.requestStream || method.responseStream || bindings.length === 0) continue;
    const requestType = method.resolvedRequestType ?? root.lookupType(method.requestType);
    const responseType = method.resolvedResponseType ?? root.lookupType(method.responseType);
    const answer = async (call: ServerUnaryCall<Buffer, Buffer>): Promise<Buffer> => {
      let json: Json;
      try {
        json = toProto3JSON(requestType.decode(call.request) as never) as Json;
      } catch {
        throw invalidArgument("Invalid request message: it does not decode as " + requestType.fullName.slice(1));
      }
      const rest = transcode(bindings, json);
      const headers: Record<string, string> = {};
      for (const name of FORWARDED_METADATA) {
        const value = call.metadata.get(name)[0];
        if (typeof value === "string") headers[name] = value;
      }
      const clientAddress = addressOf(call.getPeer());
      const outcome = await options.dispatch({
        method: rest.method,
        target: { host: served.host, pathname: rest.pathname, query: rest.query, api },
        headers,
        body: rest.body,
        ...(clientAddress ? { clientAddress } : {}),
      });
      if (!outcome.ok) throw outcome.error;
      const body = typeof outcome.body === "string" ? (JSON.parse(outcome.body) as unknown) : outcome.body;
      const message = fromProto3JSON(responseType as never, (body ?? {}) as never);
      return Buffer.from(responseType.encode(message ?? {}).finish());
    };
    const handler = (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      answer(call).then(
        (reply) => callback(null, reply),
        (thrown: unknown) => {
          const { error, unexpected, requestId } = toApiError(thrown);
          if (unexpected && requestId) options.onUnexpectedError?.(requestId, thrown);
          callback(serviceErrorOf(error, statusType));
        },
      );
    };
    server.register(`/${served.name}/${method.name}`, handler, identity, identity, "unary");
  }
}

/** The error as Google sends it: status code, message, and google.rpc.Status in grpc-status-details-bin. */
function serviceErrorOf(error: ApiError, statusType: protobuf.Type): Partial<ServiceError> {
  const status = rpcStatusOf(error);
  const metadata = new Metadata();
  metadata.set("grpc-status-details-bin", encodeStatus(status, statusType));
  return { code: status.code, details: status.message, metadata };
}

function encodeStatus(status: ReturnType<typeof rpcStatusOf>, statusType: protobuf.Type): Buffer {
  const encode = (value: Json) =>
    Buffer.from(statusType.encode(fromProto3JSON(statusType as never, value as never) ?? {}).finish());
  try {
    return encode(status);
  } catch {
    // A detail whose type the loaded protos do not name: the status still goes out, without details.
    return encode({ code: status.code, message: status.message });
  }
}

/** "127.0.0.1:5000" or "[::1]:5000" → the address alone. */
function addressOf(peer: string): string | undefined {
  const match = /^\[?([^\]]+?)\]?:\d+$/.exec(peer);
  return match?.[1];
}
