// IAM Conditions: CEL expressions evaluated by a real CEL implementation (@marcbachmann/cel-js), checked at
// setIamPolicy as Google checks them (they must compile against the attributes IAM offers and yield a bool),
// and evaluated in bounded time: `matches()` runs on RE2 (re2js, linear in its input; backreferences and
// lookaround are syntax errors, as in Google's RE2), comprehension macros (the only loops CEL has) are
// refused, and the expression's size is capped. A condition that does not compile or evaluate to true
// grants nothing (fail closed).
import { Environment, type ASTNode } from "@marcbachmann/cel-js";
import { RE2JS } from "re2js";
import { invalidArgument, type ApiError } from "../core/errors.js";
import type { Expr } from "./types.js";

export interface ConditionContext {
  requestTimeMs: number;
  resourceName: string;
  resourceType: string;
  resourceService: string;
}

/**
 * Google's IAM limits for a condition. The logical-operator count is from IAM's quotas page; the character
 * limits are the Console condition editor's (title 100, description 256) and a generous expression cap;
 * none of these figures could be confirmed in a stored copy of Google's pages.
 */
export const CONDITION_LIMITS = {
  expressionChars: 12_800,
  titleChars: 100,
  descriptionChars: 256,
  logicalOperators: 12,
} as const;

/**
 * Google's message for an expression IAM cannot compile, as observed from setIamPolicy ("Condition expression
 * compilation failed"); the parser's reason goes in a google.rpc.BadRequest field violation. Google's exact
 * wording for a non-boolean expression was not found in stored sources, so it shares this message.
 */
const COMPILATION_FAILED = "Condition expression compilation failed.";

/** Internal name `matches` is rewritten to, so CEL's built-in (JavaScript RegExp, backtracking) never runs. */
const RE2_MATCHES = "rgRe2Matches";
/** Macros that iterate: with them a short expression can do polynomial work; IAM's CEL subset has none. */
const REFUSED_MACROS = new Set(["all", "exists", "exists_one", "map", "filter", "bind"]);

/** Compiled RE2 programs by pattern, bounded (oldest dropped) since patterns can come from evaluation. */
const re2Cache = new Map<string, RE2JS>();
const RE2_CACHE_MAX = 256;

function re2(pattern: string): RE2JS {
  let compiled = re2Cache.get(pattern);
  if (!compiled) {
    compiled = RE2JS.compile(pattern);
    if (re2Cache.size >= RE2_CACHE_MAX) re2Cache.delete(re2Cache.keys().next().value!);
    re2Cache.set(pattern, compiled);
  }
  return compiled;
}

/** CEL `matches` is a partial match (RE2 `PartialMatch`), hence `find()`. */
const re2Matches = (text: string, pattern: string): boolean => re2(pattern).matcher(text).find();

const environment = new Environment({ unlistedVariablesAreDyn: false, limits: { maxDepth: 32, maxAstNodes: 2_000 } })
  .registerVariable({
    name: "request",
    schema: { time: "google.protobuf.Timestamp", host: "string", path: "string" },
  })
  .registerVariable({ name: "resource", schema: { name: "string", type: "string", service: "string" } })
  .registerFunction(`string.${RE2_MATCHES}(string): bool`, re2Matches)
  .registerFunction(`${RE2_MATCHES}(string, string): bool`, re2Matches);

type Parsed = ReturnType<typeof environment.parse>;

/** An expression IAM refuses, with the reason (a field violation's description). */
export class ConditionError extends Error {}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.trim();
}

/** Walks the AST: refuses loops and the internal name, counts logical operators, routes `matches` to RE2. */
function rewriteForRe2(root: ASTNode): void {
  let logicalOperators = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      stack.push(...(node as unknown[]));
      continue;
    }
    if (typeof node !== "object" || node === null || !("op" in node)) continue;
    const ast = node as ASTNode;
    if (ast.op === "&&" || ast.op === "||") logicalOperators += 1;
    if (ast.op === "call" || ast.op === "rcall") {
      const args = ast.args as unknown[];
      const name = args[0] as string;
      if (name === RE2_MATCHES) throw new ConditionError(`undeclared reference to '${name}'`);
      if (ast.op === "rcall" && REFUSED_MACROS.has(name))
        throw new ConditionError(`macro '${name}' is not supported in IAM conditions`);
      if (name === "matches") {
        const fnArgs = args[args.length - 1] as ASTNode[];
        const pattern = fnArgs[fnArgs.length - 1];
        if (pattern?.op === "value" && typeof pattern.args === "string") {
          try {
            re2(pattern.args);
          } catch (error) {
            throw new ConditionError(`invalid regular expression in matches(): ${firstLine(error)}`);
          }
        }
        args[0] = RE2_MATCHES;
      }
    }
    stack.push(ast.args);
  }
  if (logicalOperators > CONDITION_LIMITS.logicalOperators) {
    throw new ConditionError(
      `the expression has ${logicalOperators} logical operators; at most ${CONDITION_LIMITS.logicalOperators} are allowed`,
    );
  }
}

function compile(expression: string): Parsed {
  if (expression.length > CONDITION_LIMITS.expressionChars) {
    throw new ConditionError(`the expression is longer than ${CONDITION_LIMITS.expressionChars} characters`);
  }
  let parsed: Parsed;
  try {
    parsed = environment.parse(expression);
  } catch (error) {
    throw new ConditionError(firstLine(error));
  }
  rewriteForRe2(parsed.ast);
  const checked = parsed.check();
  if (!checked.valid) throw new ConditionError(firstLine(checked.error).replace(RE2_MATCHES, "matches"));
  if (checked.type !== "bool") {
    throw new ConditionError(`expected the expression to evaluate to bool, but it evaluates to ${checked.type}`);
  }
  return parsed;
}

export function compileCondition(expr: Expr): Parsed | Error {
  try {
    if (typeof expr.expression !== "string") throw new ConditionError("the expression is missing");
    return compile(expr.expression);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function fieldViolation(field: string, description: string): ApiError {
  return invalidArgument(COMPILATION_FAILED, [
    { "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field, description }] },
  ]);
}

/**
 * Validates a binding's condition as setIamPolicy receives it (`field` names it in errors, e.g.
 * `policy.bindings[0].condition`) and returns it with only the fields Expr has. Throws INVALID_ARGUMENT.
 */
export function validateCondition(condition: unknown, field: string): Expr {
  if (typeof condition !== "object" || condition === null || Array.isArray(condition)) {
    throw invalidArgument(`Invalid value at '${field}': expected an object.`);
  }
  const c = condition as Record<string, unknown>;
  for (const [key, max] of [
    ["title", CONDITION_LIMITS.titleChars],
    ["description", CONDITION_LIMITS.descriptionChars],
    ["location", CONDITION_LIMITS.titleChars],
  ] as const) {
    const value = c[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string") throw invalidArgument(`Invalid value at '${field}.${key}': expected a string.`);
    if (value.length > max)
      throw invalidArgument(`The condition's ${key} is longer than the maximum of ${max} characters.`);
  }
  if (typeof c["expression"] !== "string" || c["expression"].trim() === "") {
    throw invalidArgument(`Invalid value at '${field}.expression': a condition needs an expression.`);
  }
  const compiled = compileCondition({ expression: c["expression"] });
  if (compiled instanceof Error) throw fieldViolation(`${field}.expression`, compiled.message);
  const out: Expr = { expression: c["expression"] };
  for (const key of ["title", "description", "location"] as const) {
    const value = c[key];
    if (typeof value === "string") out[key] = value;
  }
  return out;
}

export function evaluateCompiled(compiled: Parsed | Error, ctx: ConditionContext): boolean | Error {
  if (compiled instanceof Error) return compiled;
  try {
    const result: unknown = compiled({
      request: { time: new Date(ctx.requestTimeMs) },
      resource: { name: ctx.resourceName, type: ctx.resourceType, service: ctx.resourceService },
    });
    return result === true;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** `run.googleapis.com/Service` style type of a resource name, as IAM Conditions see it. */
export function resourceTypeOf(resource: string): { type: string; service: string } {
  if (/\/services\/[^/]+$/.test(resource) && resource.includes("/locations/")) {
    return { type: "run.googleapis.com/Service", service: "run.googleapis.com" };
  }
  if (/\/secrets\/[^/]+(\/versions\/[^/]+)?$/.test(resource)) {
    return {
      type: resource.includes("/versions/")
        ? "secretmanager.googleapis.com/SecretVersion"
        : "secretmanager.googleapis.com/Secret",
      service: "secretmanager.googleapis.com",
    };
  }
  if (/\/serviceAccounts\//.test(resource))
    return { type: "iam.googleapis.com/ServiceAccount", service: "iam.googleapis.com" };
  if (/^projects\/[^/]+$/.test(resource))
    return { type: "cloudresourcemanager.googleapis.com/Project", service: "cloudresourcemanager.googleapis.com" };
  return { type: "", service: "" };
}
