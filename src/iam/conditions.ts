// IAM Conditions: CEL expressions evaluated by a real CEL implementation (@marcbachmann/cel-js). A condition
// that does not parse or evaluate to true grants nothing (fail closed).
import { parse } from "@marcbachmann/cel-js";
import type { Expr } from "./types.js";

export interface ConditionContext {
  requestTimeMs: number;
  resourceName: string;
  resourceType: string;
  resourceService: string;
}

type Compiled = ReturnType<typeof parse>;

export function compileCondition(expr: Expr): Compiled | Error {
  try {
    return parse(expr.expression);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

export function evaluateCompiled(compiled: Compiled | Error, ctx: ConditionContext): boolean | Error {
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
