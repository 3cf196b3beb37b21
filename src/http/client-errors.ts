// What every listener answers to a request Node's HTTP parser refused, in that listener's own shape.
import type { Duplex } from "node:stream";

/** What a listener answers to a request Node's HTTP parser refused. */
export interface MalformedAnswer {
  contentType: string;
  body: string;
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  413: "Payload Too Large",
  431: "Request Header Fields Too Large",
};

function statusOf(code: string | undefined): number {
  if (code === "HPE_HEADER_OVERFLOW") return 431;
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return 408;
  return 400;
}

/**
 * Answers a request the HTTP parser refused (bad request line, CR/LF or NUL in a header, a broken chunked
 * body, conflicting Content-Length...) with a 4xx and closes the connection. Without a handler Node answers a
 * bare 400 too, but this way every listener answers in its own shape, and a socket mid-answer is just closed.
 */
export function answerClientErrors(
  server: { on(event: "clientError", listener: (error: NodeJS.ErrnoException, socket: Duplex) => void): unknown },
  answer: (status: number) => MalformedAnswer = () => ({ contentType: "text/plain", body: "" }),
): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    const midAnswer = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (error.code === "ECONNRESET" || !socket.writable || midAnswer) return void socket.destroy();
    const status = statusOf(error.code);
    const { contentType, body } = answer(status);
    socket.end(
      `HTTP/1.1 ${status} ${REASONS[status] ?? "Bad Request"}\r\ncontent-type: ${contentType}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}
