// Reading request bodies with a hard size limit and Google's errors for bad JSON.
import type { IncomingMessage } from "node:http";
import { invalidArgument } from "../core/errors.js";

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes) {
    req.resume();
    throw invalidArgument(`Request payload size exceeds the limit: ${maxBytes} bytes.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      req.resume();
      throw invalidArgument(`Request payload size exceeds the limit: ${maxBytes} bytes.`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function parseJsonBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return {};
  const text = raw.toString("utf8");
  if (contentType?.includes("application/x-www-form-urlencoded")) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw invalidArgument("Invalid JSON payload received. Expected an object at the top level.");
    }
    return value;
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw invalidArgument("Invalid JSON payload received. Unexpected token.");
    }
    throw err;
  }
}
