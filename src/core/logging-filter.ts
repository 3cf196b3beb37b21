// Cloud Logging's query language (the `filter` of entries:list) for the LogEntry fields users filter on. Pure: a
// filter is parsed once into a predicate over LogEntries in Google's JSON shape. Bounded: the filter's length and
// nesting are capped, regular expressions run on the engine the caller gives (RE2 for linear time: core/ imports no
// packages), and every failure is a typed INVALID_ARGUMENT.
// As in Google's language, NOT binds tightest, then OR, then AND (`a OR b c` is `(a OR b) AND c`), and
// juxtaposition is AND.
import { invalidArgument, type ApiError } from "./errors.js";

/** Google's limit on a filter's length. */
export const MAX_FILTER_LENGTH = 20_000;
/** Parentheses and NOTs nested deeper than this are refused rather than recursed into. */
export const MAX_FILTER_DEPTH = 64;
/**
 * Restrictions (comparisons, bare words, log_id()) one filter may hold: each is evaluated on every entry a page
 * looks at, so their number bounds a page's work (20,000 characters would otherwise allow about 2,000).
 */
export const MAX_FILTER_TERMS = 200;
/** Objects and arrays nested deeper than this inside an entry are not searched (nor recursed into). */
export const MAX_VALUE_DEPTH = 64;

export const SEVERITIES = [
  "DEFAULT",
  "DEBUG",
  "INFO",
  "NOTICE",
  "WARNING",
  "ERROR",
  "CRITICAL",
  "ALERT",
  "EMERGENCY",
] as const;
/** LogSeverity's numbers: DEFAULT 0, DEBUG 100, ... EMERGENCY 800. */
const severityNumber = (name: string): number | undefined => {
  const index = (SEVERITIES as readonly string[]).indexOf(name.toUpperCase());
  return index < 0 ? undefined : index * 100;
};

export type LogEntryJson = Record<string, unknown>;

/** Compiles a pattern of `=~` / `!~` into a search (partial match); throws on a pattern it refuses. */
export type CompileRegex = (pattern: string) => (text: string) => boolean;

/** Counts the work matches() did: about one unit per character it searched, and one per restriction. */
export interface WorkMeter {
  units: number;
}

export interface LogFilter {
  /** Whether the entry matches; the work it took is added to `meter`, when given. */
  matches(entry: LogEntryJson, meter?: WorkMeter): boolean;
  /**
   * The narrowest timestamp window every matching entry lies in, from comparisons on `timestamp` that the whole
   * filter ANDs (for an index to start from); matches() still checks each entry.
   */
  timestampFromMs?: number;
  timestampBeforeMs?: number;
}

type Operator = "=" | "!=" | "<" | "<=" | ">" | ">=" | ":" | "=~" | "!~";
/** How a field's values compare. */
type FieldKind = "timestamp" | "severity" | "number" | "duration" | "string";

type Node =
  | { type: "and" | "or"; children: Node[] }
  | { type: "not"; child: Node }
  | { type: "compare"; path: string[]; kind: FieldKind; op: Operator; value: string; regex?: (text: string) => boolean }
  /** value is lower-cased: the search ignores case. */
  | { type: "global"; value: string }
  | { type: "logId"; logId: string };

/** A filter refused: Google's wording, with where in the filter it went wrong. */
function unparseable(reason: string, column?: number): ApiError {
  return invalidArgument(`Unparseable filter: ${reason}${column === undefined ? "" : ` at column ${column}`}.`);
}

// ---------------------------------------------------------------------------------------------------------------
// Tokens

type Token =
  | { t: "("; at: number }
  | { t: ")"; at: number }
  | { t: "op"; op: Operator; at: number }
  | { t: "-"; at: number }
  | { t: "and" | "or" | "not"; at: number }
  /** A field path (or a bare word); quoted segments keep their dots. */
  | { t: "path"; segments: string[]; at: number }
  | { t: "string"; value: string; at: number }
  /** A value after an operator, unquoted. */
  | { t: "word"; value: string; at: number };

const OPERATORS: readonly Operator[] = ["=~", "!~", "!=", ">=", "<=", "=", "<", ">", ":"];
const WORD_STOP = /[\s()"=<>!:]/;
/** A value after an operator may hold ':' and '=' (times, URLs), never whitespace, parentheses or quotes. */
const VALUE_STOP = /[\s()"]/;

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };

function readQuoted(text: string, start: number): { value: string; end: number } {
  let value = "";
  let i = start + 1;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') return { value, end: i + 1 };
    if (c === "\\") {
      const next = text[i + 1];
      if (next === undefined) break;
      // Escapes that mean nothing to the string stay as written, so that regular expressions keep `\d`.
      value += ESCAPES[next] ?? `\\${next}`;
      i += 2;
    } else {
      value += c;
      i += 1;
    }
  }
  throw unparseable("unterminated string", start + 1);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const afterOperator = () => tokens[tokens.length - 1]?.t === "op";
  while (i < text.length) {
    const c = text[i] as string;
    const at = i + 1;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === "(" || c === ")") {
      tokens.push({ t: c, at });
      i += 1;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      tokens.push({ t: "op", op, at });
      i += op.length;
      continue;
    }
    if (c === "!") throw unparseable("'!' must be part of '!=' or '!~'", at);
    if (c === '"') {
      const { value, end } = readQuoted(text, i);
      tokens.push({ t: "string", value, at });
      i = end;
      continue;
    }
    if (afterOperator()) {
      let end = i;
      while (end < text.length && !VALUE_STOP.test(text[end] as string)) end += 1;
      tokens.push({ t: "word", value: text.slice(i, end), at });
      i = end;
      continue;
    }
    if (c === "-") {
      tokens.push({ t: "-", at });
      i += 1;
      continue;
    }
    // A path: unquoted or quoted segments joined by dots (labels."runguard.dev/principal").
    const segments: string[] = [];
    for (;;) {
      if (text[i] === '"') {
        const { value, end } = readQuoted(text, i);
        segments.push(value);
        i = end;
      } else {
        let end = i;
        while (end < text.length && !WORD_STOP.test(text[end] as string) && text[end] !== ".") end += 1;
        if (end === i) throw unparseable(`unexpected '${text[i] ?? ""}'`, i + 1);
        segments.push(text.slice(i, end));
        i = end;
      }
      if (text[i] !== ".") break;
      i += 1;
    }
    const keyword = segments.length === 1 && ["AND", "OR", "NOT"].includes(segments[0] as string);
    tokens.push(
      keyword ? { t: (segments[0] as string).toLowerCase() as "and" | "or" | "not", at } : { t: "path", segments, at },
    );
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------------------------
// Fields

/** The kind of a supported field, or undefined when runguard does not filter on it. */
function fieldKind(path: readonly string[]): FieldKind | undefined {
  const [head, second, ...rest] = path;
  switch (head) {
    case "timestamp":
    case "receiveTimestamp":
      return second === undefined ? "timestamp" : undefined;
    case "severity":
      return second === undefined ? "severity" : undefined;
    case "logName":
    case "insertId":
    case "trace":
    case "spanId":
    case "textPayload":
      return second === undefined ? "string" : undefined;
    case "resource":
      if (second === "type" && rest.length === 0) return "string";
      return second === "labels" && rest.length === 1 ? "string" : undefined;
    case "labels":
      return second !== undefined && rest.length === 0 ? "string" : undefined;
    case "httpRequest":
      if (rest.length > 0 || second === undefined) return undefined;
      if (["status", "requestSize", "responseSize", "cacheFillBytes"].includes(second)) return "number";
      if (second === "latency") return "duration";
      return ["requestMethod", "requestUrl", "userAgent", "remoteIp", "serverIp", "referer", "protocol"].includes(
        second,
      )
        ? "string"
        : undefined;
    case "jsonPayload":
    case "protoPayload":
      return "string";
    default:
      return undefined;
  }
}

const SUPPORTED_FIELDS =
  "timestamp, receiveTimestamp, severity, logName, log_id(), insertId, trace, spanId, textPayload, resource.type, " +
  "resource.labels.KEY, labels.KEY, httpRequest.FIELD, jsonPayload.PATH, protoPayload.PATH";

const fieldName = (path: readonly string[]) =>
  path.map((s) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? s : JSON.stringify(s))).join(".");

// ---------------------------------------------------------------------------------------------------------------
// Parser

class Parser {
  private pos = 0;
  private depth = 0;
  private terms = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly compileRegex: CompileRegex,
  ) {}

  parse(): Node | undefined {
    if (this.tokens.length === 0) return undefined;
    const node = this.conjunction();
    const extra = this.peek();
    if (extra) throw unparseable(extra.t === ")" ? "unbalanced ')'" : "unexpected token", extra.at);
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private next(): Token | undefined {
    return this.tokens[this.pos++];
  }

  private nest<T>(at: number, work: () => T): T {
    if (++this.depth > MAX_FILTER_DEPTH) throw unparseable(`nested deeper than ${MAX_FILTER_DEPTH} levels`, at);
    try {
      return work();
    } finally {
      this.depth -= 1;
    }
  }

  private conjunction(): Node {
    const children = [this.disjunction()];
    for (;;) {
      const token = this.peek();
      if (!token || token.t === ")") break;
      if (token.t === "and") this.pos += 1;
      children.push(this.disjunction());
    }
    return children.length === 1 ? (children[0] as Node) : { type: "and", children };
  }

  private disjunction(): Node {
    const children = [this.unary()];
    while (this.peek()?.t === "or") {
      this.pos += 1;
      children.push(this.unary());
    }
    return children.length === 1 ? (children[0] as Node) : { type: "or", children };
  }

  private unary(): Node {
    const token = this.peek();
    if (!token) throw unparseable("unexpected end of filter");
    if (token.t === "not" || token.t === "-") {
      this.pos += 1;
      return this.nest(token.at, () => ({ type: "not", child: this.unary() }));
    }
    return this.primary();
  }

  private primary(): Node {
    const token = this.next();
    if (!token) throw unparseable("unexpected end of filter");
    if (token.t !== "(" && ++this.terms > MAX_FILTER_TERMS)
      throw invalidArgument(
        `The filter has more than ${MAX_FILTER_TERMS} restrictions (comparisons and search terms); at most ${MAX_FILTER_TERMS} are allowed.`,
      );
    switch (token.t) {
      case "(":
        return this.nest(token.at, () => {
          const inner = this.conjunction();
          const close = this.next();
          if (close?.t !== ")") throw unparseable("missing ')'", close?.at ?? token.at);
          return inner;
        });
      case "string":
        return { type: "global", value: token.value.toLowerCase() };
      case "path":
        return this.afterPath(token);
      default:
        throw unparseable(`unexpected ${token.t === "op" ? `'${token.op}'` : `'${token.t}'`}`, token.at);
    }
  }

  private afterPath(token: Extract<Token, { t: "path" }>): Node {
    const following = this.peek();
    if (token.segments.length === 1 && token.segments[0] === "log_id" && following?.t === "(") {
      this.pos += 1;
      const argument = this.next();
      const close = this.next();
      if (argument?.t !== "string" || close?.t !== ")")
        throw unparseable('log_id takes one quoted log id, as in log_id("run.googleapis.com/stdout")', token.at);
      return { type: "logId", logId: argument.value };
    }
    if (following?.t !== "op") {
      // A bare word searches every field, as a quoted string does.
      if (token.segments.length === 1) return { type: "global", value: (token.segments[0] as string).toLowerCase() };
      throw unparseable(`'${fieldName(token.segments)}' needs a comparison`, token.at);
    }
    this.pos += 1;
    const kind = fieldKind(token.segments);
    if (!kind)
      throw invalidArgument(
        `Unsupported field '${fieldName(token.segments)}' in the filter; runguard filters on ${SUPPORTED_FIELDS}.`,
      );
    const value = this.next();
    if (value?.t !== "string" && value?.t !== "word")
      throw unparseable(`a value must follow '${following.op}'`, value?.at ?? following.at);
    return compileComparison(
      { path: token.segments, kind, op: following.op, value: value.value },
      value.t === "word",
      value.at,
      this.compileRegex,
    );
  }
}

function compileComparison(
  comparison: { path: string[]; kind: FieldKind; op: Operator; value: string },
  unquoted: boolean,
  at: number,
  compileRegex: CompileRegex,
): Node {
  const { kind, op, value } = comparison;
  const node = { type: "compare" as const, ...comparison };
  if (op === "=~" || op === "!~") {
    try {
      return { ...node, regex: compileRegex(value) };
    } catch (error) {
      throw unparseable(`invalid regular expression: ${error instanceof Error ? error.message : "?"}`, at);
    }
  }
  if (op === ":" && unquoted && value === "*") return node;
  if (kind === "timestamp" && op !== ":" && Number.isNaN(Date.parse(value)))
    throw unparseable(`'${value.slice(0, 40)}' is not an RFC 3339 timestamp`, at);
  if (kind === "severity" && op !== ":" && severityRank(value) === undefined)
    throw unparseable(`'${value.slice(0, 40)}' is not a severity (${SEVERITIES.join(", ")})`, at);
  if (kind === "duration" && op !== ":" && durationSeconds(value) === undefined)
    throw unparseable(`'${value.slice(0, 40)}' is not a duration such as "0.5s"`, at);
  return node;
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation

function severityRank(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  return severityNumber(value);
}

function durationSeconds(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(-?\d+(?:\.\d+)?)s$/.exec(value);
  return match ? Number(match[1]) : undefined;
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value)) return Number(value);
  return undefined;
}

/** The values at a path; arrays along the way fan out, as Logging matches any element of a repeated field. */
function valuesAt(entry: unknown, path: readonly string[]): unknown[] {
  let current: unknown[] = [entry];
  for (const segment of path) {
    const next: unknown[] = [];
    for (const value of current) {
      const items = Array.isArray(value) ? value : [value];
      for (const item of items)
        if (typeof item === "object" && item !== null && Object.hasOwn(item, segment))
          next.push((item as Record<string, unknown>)[segment]);
    }
    current = next;
  }
  return current.flatMap((value) => (Array.isArray(value) ? (value as unknown[]) : [value]));
}

/**
 * Every scalar under a value, as text (for `:` on a message and for global restrictions), in document order.
 * Iterative, and blind below MAX_VALUE_DEPTH levels, so that a deeply nested value cannot overflow the stack.
 */
export function leaves(value: unknown): string[] {
  const out: string[] = [];
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const current = item.value;
    if (current === null || current === undefined) continue;
    if (typeof current !== "object") {
      out.push(String(current));
      continue;
    }
    if (item.depth >= MAX_VALUE_DEPTH) continue;
    const children = Object.values(current as Record<string, unknown>);
    for (let i = children.length - 1; i >= 0; i--) stack.push({ value: children[i], depth: item.depth + 1 });
  }
  return out;
}

const contains = (haystack: string, needle: string) => haystack.toLowerCase().includes(needle.toLowerCase());

/** One entry being evaluated: its leaves, lower-cased, computed once however many words search them. */
interface Evaluation {
  entry: LogEntryJson;
  lowerLeaves?: string[];
  /** Their total length: what one search through them costs. */
  leavesLength: number;
  meter: WorkMeter;
}

function entryLeaves(evaluation: Evaluation): string[] {
  if (evaluation.lowerLeaves === undefined) {
    evaluation.lowerLeaves = leaves(evaluation.entry).map((leaf) => leaf.toLowerCase());
    evaluation.leavesLength = evaluation.lowerLeaves.reduce((sum, leaf) => sum + leaf.length, 0);
  }
  return evaluation.lowerLeaves;
}

/** The leaves of one field's value, with their length counted as work. */
function metered(value: unknown, meter: WorkMeter): string[] {
  const found = leaves(value);
  for (const leaf of found) meter.units += leaf.length;
  return found;
}

function order(op: Operator, difference: number): boolean {
  switch (op) {
    case "=":
      return difference === 0;
    case "!=":
      return difference !== 0;
    case "<":
      return difference < 0;
    case "<=":
      return difference <= 0;
    case ">":
      return difference > 0;
    case ">=":
      return difference >= 0;
    default:
      return false;
  }
}

function keyOf(kind: FieldKind, value: unknown): number | string | undefined {
  switch (kind) {
    case "timestamp": {
      const ms = typeof value === "string" ? Date.parse(value) : NaN;
      return Number.isNaN(ms) ? undefined : ms;
    }
    case "severity":
      return severityRank(value);
    case "duration":
      return durationSeconds(value);
    default:
      return numberOf(value) ?? (typeof value === "object" ? undefined : String(value));
  }
}

function compareOne(node: Extract<Node, { type: "compare" }>, actual: unknown, meter: WorkMeter): boolean {
  const { op, value, kind } = node;
  if (op === ":") return value === "*" || metered(actual, meter).some((leaf) => contains(leaf, value));
  if (node.regex) {
    const found = metered(actual, meter).some((leaf) => node.regex?.(leaf) === true);
    return op === "=~" ? found : !found;
  }
  const left = keyOf(kind, actual);
  const right = keyOf(kind, value);
  if (left === undefined || right === undefined) return false;
  if (typeof left === "number" && typeof right === "number") return order(op, left - right);
  const [a, b] = [String(left), String(right)];
  return order(op, a === b ? 0 : a < b ? -1 : 1);
}

function evaluate(node: Node, evaluation: Evaluation): boolean {
  const { entry, meter } = evaluation;
  meter.units += 1;
  switch (node.type) {
    case "and":
      return node.children.every((child) => evaluate(child, evaluation));
    case "or":
      return node.children.some((child) => evaluate(child, evaluation));
    case "not":
      return !evaluate(node.child, evaluation);
    case "global": {
      const lowerLeaves = entryLeaves(evaluation);
      meter.units += evaluation.leavesLength;
      return lowerLeaves.some((leaf) => leaf.includes(node.value));
    }
    case "logId": {
      const logName = entry["logName"];
      return typeof logName === "string" && logName.endsWith(`/logs/${encodeURIComponent(node.logId)}`);
    }
    case "compare": {
      const actual = valuesAt(entry, node.path);
      // An entry without a severity has severity DEFAULT.
      if (actual.length === 0 && node.kind === "severity") actual.push("DEFAULT");
      // A field the entry lacks matches no comparison (NOT field=value does match it), as in Logging.
      if (actual.length === 0) return false;
      if (node.op === "!=" || node.op === "!~") return actual.every((value) => compareOne(node, value, meter));
      return actual.some((value) => compareOne(node, value, meter));
    }
  }
}

/** The timestamp window of the comparisons on `timestamp` among the conjuncts ANDed at the top. */
function timestampWindow(root: Node | undefined): Pick<LogFilter, "timestampFromMs" | "timestampBeforeMs"> {
  const conjuncts = root === undefined ? [] : root.type === "and" ? root.children : [root];
  let from: number | undefined;
  let before: number | undefined;
  for (const node of conjuncts) {
    if (node.type !== "compare" || node.path.length !== 1 || node.path[0] !== "timestamp") continue;
    const ms = Date.parse(node.value);
    if (Number.isNaN(ms)) continue;
    if (node.op === ">=" || node.op === ">" || node.op === "=") from = Math.max(from ?? ms, ms);
    // Millisecond precision: `< 12:00:00.0005` may match an entry at 12:00:00.000, so the bound is inclusive.
    if (node.op === "<" || node.op === "<=" || node.op === "=") before = Math.min(before ?? ms + 1, ms + 1);
  }
  return {
    ...(from === undefined ? {} : { timestampFromMs: from }),
    ...(before === undefined ? {} : { timestampBeforeMs: before }),
  };
}

/** Parses a filter; an empty one matches every entry. Throws only INVALID_ARGUMENT. */
export function parseLogFilter(text: string, compileRegex: CompileRegex): LogFilter {
  if (text.length > MAX_FILTER_LENGTH)
    throw invalidArgument(`The filter is ${text.length} characters long; at most ${MAX_FILTER_LENGTH} are allowed.`);
  const root = new Parser(tokenize(text), compileRegex).parse();
  return {
    matches: (entry, meter = { units: 0 }) => {
      if (root === undefined) {
        meter.units += 1;
        return true;
      }
      return evaluate(root, { entry, leavesLength: 0, meter });
    },
    ...timestampWindow(root),
  };
}
