// Google's JSON wire types (proto3 JSON mapping) as zod schemas, and the one decoder that checks a request body
// against them. A wrong type answers 400 INVALID_ARGUMENT in the words Google's front end uses, e.g.
// `Invalid value at 'policy.etag' (TYPE_BYTES), ...` or `Invalid JSON payload received. Unknown name "x" at
// 'policy': Proto field is not repeating, cannot start list.`; nothing that fails here reaches a handler or the
// store. Each schema's error message carries its wire type name, which the decoder turns into Google's text.
import { z } from "zod";
import { ApiError } from "../../core/errors.js";

/** The wire type a schema stands for, e.g. TYPE_STRING or type.googleapis.com/google.iam.v1.Binding. */
const wireTypes = new WeakMap<z.ZodType, string>();

function typed<T extends z.ZodType>(schema: T, wireType: string): T {
  wireTypes.set(schema, wireType);
  return schema;
}

const wireTypeOf = (schema: z.ZodType): string => wireTypes.get(schema) ?? "TYPE_MESSAGE";

export const string = () => typed(z.string({ error: "TYPE_STRING" }), "TYPE_STRING");
export const double = () => typed(z.number({ error: "TYPE_DOUBLE" }), "TYPE_DOUBLE");
export const bool = () => typed(z.boolean({ error: "TYPE_BOOL" }), "TYPE_BOOL");

/** proto3 JSON integers arrive as numbers or as decimal strings; both decode to a number. */
function integer(wireType: string, min: number, max: number) {
  return typed(
    z.unknown().transform((value, ctx): number => {
      const n = typeof value === "number" ? value : typeof value === "string" && /^-?\d+$/.test(value) ? +value : NaN;
      if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
      ctx.addIssue({ code: "custom", message: wireType, input: value });
      return z.NEVER;
    }),
    wireType,
  );
}

export const int32 = () => integer("TYPE_INT32", -(2 ** 31), 2 ** 31 - 1);
export const int64 = () => integer("TYPE_INT64", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);

const BASE64 = /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/;

/** `bytes`: base64 in either alphabet (gcloud echoes etags URL-safe). */
export const bytes = () =>
  typed(
    z.string({ error: "TYPE_BYTES" }).refine((text) => BASE64.test(text), { error: "TYPE_BYTES" }),
    "TYPE_BYTES",
  );

/** An enum by name or, as proto3 JSON also allows, by number (its index in `values`, which are in proto order). */
export function enumeration(typeName: string, values: readonly string[]) {
  const wireType = `type.googleapis.com/${typeName}`;
  return typed(
    z.unknown().transform((value, ctx): string => {
      const name = typeof value === "number" ? values[value] : value;
      if (typeof name === "string" && values.includes(name)) return name;
      ctx.addIssue({ code: "custom", message: wireType, input: value });
      return z.NEVER;
    }),
    wireType,
  );
}

/** A message: known fields are checked and kept, unknown ones dropped (they are never stored or echoed). */
export function message<Shape extends z.ZodRawShape>(typeName: string, shape: Shape) {
  const wireType = `type.googleapis.com/${typeName}`;
  return typed(z.object(shape, { error: wireType }), wireType);
}

/** A value runguard passes on unchecked because another part validates it (traffic targets, Knative status). */
export const opaque = () => z.unknown().optional();

export const repeated = <Element extends z.ZodType>(element: Element) =>
  typed(z.array(element, { error: wireTypeOf(element) }), wireTypeOf(element));

/** map<string, string>: Google names a bad entry by its position, e.g. `secret.labels[0].value`. */
export const stringMap = () =>
  typed(
    z.unknown().transform((value, ctx): Record<string, string> => {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        ctx.addIssue({ code: "custom", message: "map<string, string>", input: value });
        return z.NEVER;
      }
      const entries = Object.entries(value);
      entries.forEach(([, entry], index) => {
        if (typeof entry !== "string")
          ctx.addIssue({ code: "custom", message: "TYPE_STRING", input: entry, path: [index, "value"] });
      });
      return Object.fromEntries(entries) as Record<string, string>;
    }),
    "map<string, string>",
  );

/** A request body's schema and, when the HTTP rule binds one field (`body: "secret"`), that field's name. */
export interface WireBody<T = unknown> {
  schema: z.ZodType<T>;
  root?: string;
}

export const wireBody = <T>(schema: z.ZodType<T>, root?: string): WireBody<T> => ({
  schema,
  ...(root ? { root } : {}),
});

const MAX_REPORTED_ISSUES = 10;
const MAX_ECHO_CHARS = 100;

const snake = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function location(root: string | undefined, path: readonly PropertyKey[]): string {
  let out = root ?? "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? snake(String(segment)) : `.${snake(String(segment))}`;
  }
  return out;
}

/** The offending value as Google shows it, cut short: it lands in error messages and audit entries. */
function echo(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_ECHO_CHARS ? `${text.slice(0, MAX_ECHO_CHARS)}...` : text;
}

const isObject = (value: unknown) => typeof value === "object" && value !== null && !Array.isArray(value);

/** Reports a value of the right type that breaks one of Google's rules (label syntax, sizes), in its own words. */
export function violate(ctx: z.RefinementCtx, message: string, path?: PropertyKey[]): void {
  ctx.addIssue({ code: "custom", message, params: { rule: true }, ...(path ? { path } : {}) });
}

function describe(issue: z.core.$ZodIssue, root: string | undefined): string {
  const wireType = issue.message;
  if (issue.code === "custom" && (issue.params as { rule?: boolean } | undefined)?.rule) {
    return `Invalid value at '${location(root, issue.path)}': ${issue.message}`;
  }
  const input = (issue as { input?: unknown }).input;
  const path = issue.path;
  const field = path.at(-1);
  const scalar = wireType.startsWith("TYPE_");
  if (typeof field === "string" && Array.isArray(input) && (issue as { expected?: string }).expected !== "array") {
    const at = location(root, path.slice(0, -1));
    return `Invalid JSON payload received. Unknown name "${field}"${at ? ` at '${at}'` : ""}: Proto field is not repeating, cannot start list.`;
  }
  if (scalar && typeof field === "string" && isObject(input)) {
    return `Invalid value at '${location(root, path.slice(0, -1))}' (${snake(field)}), Starting an object on a scalar field`;
  }
  // Bytes are never echoed: they may be a secret's payload.
  const shown = wireType === "TYPE_BYTES" ? "Base64 decoding failed" : echo(input);
  return `Invalid value at '${location(root, path)}' (${wireType}), ${shown}`;
}

/** Drops null fields: in proto3 JSON a null field is the field left unset. Elements of lists are kept. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    // `__proto__` would set the prototype of `out` rather than a field.
    if (field !== null && key !== "__proto__") out[key] = withoutNulls(field);
  }
  return out;
}

/** Checks a parsed JSON body against its wire type; returns the decoded body or throws Google's 400. */
export function decodeBody<T>(wire: WireBody<T>, body: unknown): T {
  const result = wire.schema.safeParse(withoutNulls(body), { reportInput: true });
  if (result.success) return result.data;
  const violations = result.error.issues.slice(0, MAX_REPORTED_ISSUES).map((issue) => ({
    field: location(wire.root, issue.path),
    description: describe(issue, wire.root),
  }));
  return failWith(violations);
}

function failWith(violations: Array<{ field: string; description: string }>): never {
  throw new ApiError("INVALID_ARGUMENT", violations.map((v) => v.description).join("\n"), [
    { "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: violations },
  ]);
}
