// gRPC → REST by the method's `google.api.http` rule, as Google's own front end does: path variables from
// fields, `body: "*"` (the rest of the message) or `body: "field"`, every other field a query parameter.
// The message is in its proto3 JSON form (lowerCamel keys), the same mapping the REST transport uses.
import type protobuf from "protobufjs";
import { invalidArgument } from "../../core/errors.js";

type Json = Record<string, unknown>;

export interface HttpBinding {
  verb: string;
  /** e.g. /v1/{name=projects/*\/secrets/*}:access */
  template: string;
  body?: string;
}

export interface RestCall {
  method: string;
  pathname: string;
  query: URLSearchParams;
  body: unknown;
}

const VERBS = ["get", "post", "put", "patch", "delete"] as const;

/** The method's bindings, primary first; none for a method without a `google.api.http` rule. */
export function httpBindingsOf(method: protobuf.Method): HttpBinding[] {
  const option = (method.parsedOptions as Json[] | undefined)?.find((o) => "(google.api.http)" in o);
  const rule = option?.["(google.api.http)"] as Json | undefined;
  if (!rule) return [];
  const toBinding = (r: Json): HttpBinding | undefined => {
    const verb = VERBS.find((v) => typeof r[v] === "string");
    if (!verb) return undefined;
    return {
      verb: verb.toUpperCase(),
      template: r[verb] as string,
      ...(typeof r["body"] === "string" ? { body: r["body"] } : {}),
    };
  };
  const extra = rule["additional_bindings"];
  const rules = [rule, ...(Array.isArray(extra) ? (extra as Json[]) : extra ? [extra as Json] : [])];
  return rules.map(toBinding).filter((b): b is HttpBinding => b !== undefined);
}

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const fieldPath = (dotted: string) => dotted.split(".").map(camel);

function valueAt(json: Json, path: readonly string[]): unknown {
  let current: unknown = json;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Json)[key];
  }
  return current;
}

/** A copy of `json` without the field at `path` (the copy is shallow except along the path). */
function without(json: Json, path: readonly string[]): Json {
  const [head, ...rest] = path;
  if (head === undefined || !(head in json)) return json;
  const copy = { ...json };
  const child = copy[head];
  if (rest.length === 0 || typeof child !== "object" || child === null) delete copy[head];
  else copy[head] = without(child as Json, rest);
  return copy;
}

/** A path template segment pattern (`projects/*\/secrets/*`, `operations/**`) as an anchored regex. */
function patternRegex(pattern: string): RegExp {
  const parts = pattern.split("/").map((segment) => {
    if (segment === "**") return ".+";
    if (segment === "*") return "[^/]+";
    return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  });
  return new RegExp(`^${parts.join("/")}$`);
}

const VARIABLE = /\{([a-zA-Z0-9_.]+)(?:=([^}]*))?\}/g;

/** The path for this binding, and the fields it bound, or undefined when a field does not fit the template. */
function expand(binding: HttpBinding, json: Json): { pathname: string; bound: string[][] } | undefined {
  const bound: string[][] = [];
  let fits = true;
  const pathname = binding.template.replace(VARIABLE, (_m, field: string, pattern: string | undefined) => {
    const path = fieldPath(field);
    const value = valueAt(json, path);
    const text = typeof value === "string" || typeof value === "number" ? String(value) : undefined;
    if (text === undefined || !patternRegex(pattern ?? "*").test(text)) {
      fits = false;
      return "";
    }
    bound.push(path);
    // Each segment escaped on its own, so the route sees the same path a REST client would send.
    return text.split("/").map(encodeURIComponent).join("/");
  });
  return fits ? { pathname, bound } : undefined;
}

function appendQuery(query: URLSearchParams, prefix: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) appendQuery(query, prefix, item);
  } else if (typeof value === "object") {
    for (const [key, child] of Object.entries(value as Json)) appendQuery(query, `${prefix}.${key}`, child);
  } else {
    query.append(prefix, String(value as string | number | boolean));
  }
}

/** The REST request a gRPC message stands for; INVALID_ARGUMENT when its resource names fit no binding. */
export function transcode(bindings: readonly HttpBinding[], json: Json): RestCall {
  for (const binding of bindings) {
    const expanded = expand(binding, json);
    if (!expanded) continue;
    let rest = json;
    for (const path of expanded.bound) rest = without(rest, path);
    let body: unknown = {};
    if (binding.body === "*") {
      body = rest;
      rest = {};
    } else if (binding.body) {
      const key = camel(binding.body);
      body = json[key] ?? {};
      rest = without(rest, [key]);
    }
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(rest)) appendQuery(query, key, value);
    return { method: binding.verb, pathname: expanded.pathname, query, body };
  }
  const names = bindings.flatMap((b) => [...b.template.matchAll(VARIABLE)].map((m) => m[1] ?? ""));
  throw invalidArgument(`Invalid resource field value in the request: ${[...new Set(names)].join(", ")}.`);
}
