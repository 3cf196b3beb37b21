// The headers an instance receives: hop-by-hop headers removed, identity headers only as runguard vouches for
// them (a client can never smuggle a verified-looking identity in), the checked token signature-stripped,
// and the forwarding headers Google's front end adds.
import type { IncomingHttpHeaders } from "node:http";
import { createHexPool } from "../core/ids.js";
import { SERVERLESS_AUTHORIZATION, isClientForbidden } from "./client-headers.js";

const HOP_BY_HOP = new Set([
  "connection",
  // The front end answers `Expect: 100-continue` itself (request-body.ts); undici refuses to send it anyway.
  "expect",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

/** Forwarding headers the front end writes itself (a client's x-forwarded-for is extended, not dropped). */
const REPLACED = new Set(["x-forwarded-for", "x-forwarded-proto", "forwarded"]);

export interface ForwardContext {
  clientIp: string;
  host: string;
  /** The header that carried the checked token and its signature-stripped value. */
  checked?: { header: string; value: string };
  /** On public services nobody verified X-Serverless-Authorization, so it must not reach the app. */
  dropServerlessAuthorization: boolean;
  /** Through the load balancer or IAP: a client's X-Serverless-Authorization is not its to send. */
  behindProxy: boolean;
  /** What IAP let through: the Cookie header without IAP's cookies, and the identity headers IAP vouches for. */
  iap?: { cookie: string | undefined; identityHeaders: Readonly<Record<string, string>> };
}

/** Header names and values in turn, as undici and Node's writeHead take them: no object built key by key. */
export type FlatHeaders = string[];

export function createHeaderRewriter() {
  const randomHex = createHexPool();
  return (incoming: IncomingHttpHeaders, context: ForwardContext) =>
    requestHeadersForInstance(incoming, context, randomHex);
}

/** The names a Connection header lists (they are hop-by-hop too); undefined when there are none. */
function connectionListed(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const names = String(value)
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  return names.length > 0 ? new Set(names) : undefined;
}

function pushHeader(out: FlatHeaders, name: string, value: string | string[]): void {
  if (typeof value === "string") out.push(name, value);
  else for (const one of value) out.push(name, one);
}

function requestHeadersForInstance(
  incoming: IncomingHttpHeaders,
  context: ForwardContext,
  randomHex: (bytes: number) => string,
): FlatHeaders {
  const listed = connectionListed(incoming["connection"]);
  const checkedHeader = context.checked?.header;
  const out: FlatHeaders = [];
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    if (isClientForbidden(name, context.behindProxy)) continue;
    if (name === SERVERLESS_AUTHORIZATION && context.dropServerlessAuthorization) continue;
    if (name === checkedHeader || REPLACED.has(name)) continue;
    if (name === "cookie" && context.iap) {
      if (context.iap.cookie !== undefined) out.push(name, context.iap.cookie);
      continue;
    }
    pushHeader(out, name, value);
  }
  if (context.checked) out.push(context.checked.header, context.checked.value);
  out.push("host", context.host);
  // A caller with no address of its own (an instance's call through the egress proxy) adds none: no empty
  // entries in the chain, as Cloud Run never sends them.
  const forwardedFor = incoming["x-forwarded-for"] ? String(incoming["x-forwarded-for"]) : "";
  const chain =
    forwardedFor && context.clientIp ? `${forwardedFor}, ${context.clientIp}` : forwardedFor || context.clientIp;
  if (chain) out.push("x-forwarded-for", chain);
  out.push(
    "x-forwarded-proto",
    "https",
    "forwarded",
    context.clientIp ? `for="${context.clientIp}";proto=https` : "proto=https",
  );
  if (!incoming["x-cloud-trace-context"]) {
    out.push("x-cloud-trace-context", `${randomHex(16)}/${parseInt(randomHex(6), 16)};o=1`);
  }
  if (context.iap)
    for (const name in context.iap.identityHeaders) out.push(name, context.iap.identityHeaders[name] ?? "");
  return out;
}

export function responseHeadersForClient(headers: Record<string, string | string[] | undefined>): FlatHeaders {
  const out: FlatHeaders = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    pushHeader(out, name, value);
  }
  return out;
}
