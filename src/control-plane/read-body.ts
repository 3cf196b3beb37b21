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
  if (nestingDepth(text) > MAX_NESTING) {
    throw invalidArgument(`Invalid JSON payload received. Message too deep: the limit is ${MAX_NESTING} levels.`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw invalidArgument('Invalid JSON payload received. Unknown name "": Root element must be a message.');
    }
    return value;
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw invalidArgument("Invalid JSON payload received. Unexpected token.");
    }
    throw err;
  }
}

/** Google's JSON parser stops at 100 levels of nesting; so does runguard, before anything recurses into a body. */
const MAX_NESTING = 100;

/** The deepest nesting of objects and arrays in JSON text, counted outside strings. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}
