// Request bodies as Cloud Run takes them: up to 32 MiB over HTTP/1 (larger ones get 413), and `Expect:
// 100-continue` answered by the front end itself, only once the request is admitted, so a body that will be
// refused is never sent.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { Transform, type TransformCallback } from "node:stream";
import { answerClientErrors } from "../http/client-errors.js";
import { malformedRequestAnswer } from "./pages.js";

/** Cloud Run's maximum HTTP/1 request size. */
export const MAX_REQUEST_BYTES = 32 * 1024 * 1024;

const awaitingContinue = new WeakSet<ServerResponse>();

/**
 * Requests with `Expect: 100-continue` go to `handler` like any other, but without Node's automatic
 * `100 Continue`: the front end sends it (sendContinue) when it is about to read the body.
 */
export function deferContinue(
  server: Pick<Server, "on">,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    awaitingContinue.add(res);
    handler(req, res);
  });
}

/** Sends the deferred `100 Continue`, once; a no-op for requests that did not ask or already got it. */
export function sendContinue(res: ServerResponse): void {
  if (awaitingContinue.delete(res) && !res.headersSent && !res.destroyed) res.writeContinue();
}

/** The declared Content-Length is over the limit (a chunked body is counted as it streams: limitBody). */
export function declaredTooLarge(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return length !== undefined && Number(length) > MAX_REQUEST_BYTES;
}

export class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";
  constructor() {
    super(`request body over ${MAX_REQUEST_BYTES} bytes`);
  }
}

/** The body as a stream that fails with BodyTooLargeError past the limit (for bodies without a length). */
export function limitBody(req: IncomingMessage): Transform {
  let seen = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      seen += chunk.length;
      if (seen > MAX_REQUEST_BYTES) return done(new BodyTooLargeError());
      done(null, chunk);
    },
  });
  req.on("error", (error) => limited.destroy(error));
  return req.pipe(limited);
}

/** A listener in front of services: malformed requests get Google's 400 page, Expect is deferred (above). */
export function guardListener(
  server: Pick<Server, "on">,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  answerClientErrors(server, malformedRequestAnswer);
  deferContinue(server, handler);
}
