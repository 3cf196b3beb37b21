// gRPC beside REST: each unary method of the served services is transcoded to its REST route and answered by
// the same dispatch (authentication, IAM, validation, audit, errors), then converted back to protobuf.
// Connections arrive already decrypted (TLS or h2c, told apart by the transport); this serves HTTP/2 on them.
import type { Duplex } from "node:stream";
import {
  Metadata,
  ResponderBuilder,
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status as grpcStatus,
  type ConnectionInjector,
  type sendUnaryData,
  type ServerInterceptor,
  type ServerUnaryCall,
  type ServiceError,
  type StatusObject,
} from "@grpc/grpc-js";
import type protobuf from "protobufjs";
import { fromProto3JSON, toProto3JSON } from "proto3-json-serializer";
import { ApiError, invalidArgument } from "../../core/errors.js";
import type { ApiName } from "../route.js";
import type { ApiAuthenticator, ApiDispatch } from "../server.js";
import { rpcStatusOf, toApiError } from "../respond.js";
import { googleProtos, SERVED_SERVICES, type ServedService } from "./protos.js";
import { httpBindingsOf, transcode } from "./transcode.js";

export interface GrpcGateway {
  injectConnection(connection: Duplex): void;
  /** What it holds now: connections, bytes reserved for messages being received, calls waiting for that. */
  usage(): { connections: number; reservedBytes: number; waitingCalls: number };
  close(): Promise<void>;
}

/** What bounds the resources a caller can hold; the defaults suit a developer machine, tests use shorter ones. */
export interface GrpcLimits {
  /** Connections held at once; more are closed at once (each costs runguard a file descriptor). */
  maxConnections?: number;
  /** A connection without a call for this long is closed (GOAWAY). */
  connectionIdleMs?: number;
  /** Streams one connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxConcurrentStreams?: number;
  /**
   * Bytes all calls together may be receiving: each authenticated call reserves the largest message before its
   * message is read, and waits (its stream paused) while the rest is reserved.
   */
  maxBufferedBytes?: number;
  /** An authenticated call whose message has not arrived whole by then gets DEADLINE_EXCEEDED. */
  receiveMs?: number;
  /** Server pings at this interval find peers that vanished without a FIN (a dropped network). */
  keepaliveMs?: number;
}

export interface GrpcGatewayOptions {
  dispatch: ApiDispatch;
  /** The dispatch's own authentication, run on a call's metadata before its message is read. */
  authenticate: ApiAuthenticator;
  onUnexpectedError?: (id: string, e: unknown) => void;
  /** Largest request message accepted (the REST side's maxBodyBytes); larger ones get RESOURCE_EXHAUSTED. */
  maxMessageBytes?: number;
  limits?: GrpcLimits;
}

/** What grpc-js accepts by default; the REST side's limit is smaller (1 MiB) unless configured. */
const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

const DEFAULT_LIMITS: Required<GrpcLimits> = {
  maxConnections: 1000,
  connectionIdleMs: 5 * 60_000,
  maxConcurrentStreams: 100,
  maxBufferedBytes: 64 * 1024 * 1024,
  receiveMs: 60_000,
  keepaliveMs: 2 * 60_000,
};

const KEEPALIVE_TIMEOUT_MS = 20_000;

/** The request headers a REST route reads, from the call's metadata. */
const FORWARDED_METADATA = ["authorization", "user-agent", "x-goog-api-client", "x-goog-request-params"];

type Json = Record<string, unknown>;

export function createGrpcGateway(options: GrpcGatewayOptions): GrpcGateway {
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const budget = createByteBudget(limits.maxBufferedBytes);
  let statusType: protobuf.Type | undefined;
  const hostOf = new Map<string, string>();
  const server = new Server({
    "grpc.max_receive_message_length": maxBytes,
    "grpc.max_send_message_length": -1,
    // Bounds what one connection can hold in memory at once: streams × message size.
    "grpc.max_concurrent_streams": limits.maxConcurrentStreams,
    "grpc.max_connection_idle_ms": limits.connectionIdleMs,
    "grpc.keepalive_time_ms": limits.keepaliveMs,
    "grpc.keepalive_timeout_ms": KEEPALIVE_TIMEOUT_MS,
    interceptors: [
      authenticateBeforeReading({
        authenticate: options.authenticate,
        hostOf: (path) => hostOf.get(path.split("/")[1] ?? ""),
        statusOf: (thrown) => {
          const { error, unexpected, requestId } = toApiError(thrown);
          if (unexpected && requestId) options.onUnexpectedError?.(requestId, thrown);
          return serviceErrorOf(error, statusType ?? googleProtos().lookupType("google.rpc.Status"));
        },
        budget,
        reservation: Math.min(maxBytes, limits.maxBufferedBytes),
        receiveMs: limits.receiveMs,
      }),
    ],
  });
  let injector: ConnectionInjector | undefined;
  const ready = () => {
    if (injector) return injector;
    const root = googleProtos();
    statusType = root.lookupType("google.rpc.Status");
    for (const service of SERVED_SERVICES) {
      hostOf.set(service.name, service.host);
      registerService(server, root, service, options);
    }
    injector = server.createConnectionInjector(ServerCredentials.createInsecure());
    return injector;
  };
  const connections = new Set<Duplex>();
  return {
    injectConnection(connection) {
      if (connections.size >= limits.maxConnections) return void connection.destroy();
      // Tracked so that close() ends them: an HTTP/2 session left open would keep runguard from exiting.
      connections.add(connection);
      connection.once("close", () => connections.delete(connection));
      // HTTP/2 never half-closes: a peer's FIN means it is gone (a killed client sends no GOAWAY). The API port
      // accepts half-open sockets, and the session would otherwise keep its end open for ever (CLOSE-WAIT).
      connection.once("end", () => connection.destroy());
      try {
        ready().injectConnection(connection);
      } catch (error) {
        // The protos failed to load (a broken install): this connection is refused, runguard keeps serving.
        options.onUnexpectedError?.("grpc-load", error);
        connection.destroy();
      }
    },
    usage: () => ({ connections: connections.size, ...budget.usage() }),
    async close() {
      for (const connection of connections) connection.destroy();
      connections.clear();
      injector?.destroy();
      server.forceShutdown();
      await Promise.resolve();
    },
  };
}

interface ByteBudget {
  /** Resolves with a release function once `bytes` are reserved; `cancel` drops a call still waiting. */
  reserve(bytes: number): { granted: Promise<() => void>; cancel(): void };
  usage(): { reservedBytes: number; waitingCalls: number };
}

/** Bytes handed out first come, first served: a call waits its turn instead of failing. */
function createByteBudget(total: number): ByteBudget {
  let reserved = 0;
  const waiting: { bytes: number; grant: () => void }[] = [];
  const grantWaiting = () => {
    while (waiting.length > 0 && reserved + waiting[0]!.bytes <= total) {
      const next = waiting.shift()!;
      reserved += next.bytes;
      next.grant();
    }
  };
  return {
    reserve(bytes) {
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        reserved -= bytes;
        grantWaiting();
      };
      let entry: { bytes: number; grant: () => void } | undefined;
      const granted = new Promise<() => void>((resolve) => {
        entry = { bytes, grant: () => resolve(release) };
        waiting.push(entry);
        grantWaiting();
      });
      return {
        granted,
        cancel() {
          const index = entry ? waiting.indexOf(entry) : -1;
          if (index >= 0) waiting.splice(index, 1);
          else
            granted.then(
              (r) => r(),
              () => undefined,
            );
        },
      };
    },
    usage: () => ({ reservedBytes: reserved, waitingCalls: waiting.length }),
  };
}

interface AuthenticateBeforeReading {
  authenticate: ApiAuthenticator;
  hostOf(path: string): string | undefined;
  /** The status a refusal is sent with (an unexpected failure is logged there). */
  statusOf(thrown: unknown): Partial<ServiceError>;
  budget: ByteBudget;
  reservation: number;
  receiveMs: number;
}

/**
 * Refuses a call without valid credentials from its metadata alone, before grpc-js reads its message (the stream
 * stays paused until then): an unauthenticated caller can make runguard neither buffer nor decode anything.
 * An authenticated call then waits for its share of the byte budget and must deliver its message in time.
 */
function authenticateBeforeReading(options: AuthenticateBeforeReading): ServerInterceptor {
  return (descriptor, call) => {
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    let reservation: ReturnType<ByteBudget["reserve"]> | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      reservation?.cancel();
    };
    const refuse = (status: Partial<ServiceError>) => {
      if (finished) return;
      finish();
      call.sendStatus({
        code: status.code ?? grpcStatus.INTERNAL,
        details: status.details ?? "",
        metadata: status.metadata ?? new Metadata(),
      } satisfies Partial<StatusObject>);
    };
    const responder = new ResponderBuilder()
      .withStart((next) => {
        const listener = new ServerListenerBuilder()
          .withOnReceiveMetadata((metadata, proceed) => {
            const host = options.hostOf(descriptor.path);
            if (!host) return refuse({ code: grpcStatus.UNIMPLEMENTED, details: "Method not found." });
            const api = host.split(".")[0] as ApiName;
            const authorization = metadata.get("authorization")[0];
            const headers = typeof authorization === "string" ? { authorization } : {};
            timer = setTimeout(
              () =>
                refuse(
                  options.statusOf(new ApiError("DEADLINE_EXCEEDED", "The request message did not arrive in time.")),
                ),
              options.receiveMs,
            );
            options.authenticate(headers, { host, api }, api).then(
              () => {
                if (finished) return;
                reservation = options.budget.reserve(options.reservation);
                reservation.granted.then(
                  () => {
                    if (!finished) proceed(metadata);
                  },
                  () => undefined,
                );
              },
              (thrown: unknown) => refuse(options.statusOf(thrown)),
            );
          })
          .withOnReceiveHalfClose((proceed) => {
            // The message is whole: from here the handler's own time counts, not the receive deadline.
            clearTimeout(timer);
            proceed();
          })
          .withOnCancel(finish)
          .build();
        next(listener);
      })
      .withSendStatus((status, proceed) => {
        finish();
        proceed(status);
      })
      .build();
    return new ServerInterceptingCall(call, responder);
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
