import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CONDITION_LIMITS, compileCondition, evaluateCompiled, validateCondition } from "./conditions.js";
import { isApiError } from "../core/errors.js";

const SVC = "projects/p/locations/us-central1/services/api";
const context = {
  requestTimeMs: Date.parse("2026-06-01T00:00:00Z"),
  resourceName: SVC,
  resourceType: "run.googleapis.com/Service",
  resourceService: "run.googleapis.com",
};

function evaluate(expression: string): boolean | Error {
  return evaluateCompiled(compileCondition({ expression }), context);
}

/** The INVALID_ARGUMENT validateCondition throws, with its field violation's description. */
function refusal(condition: unknown): { status: string; message: string; description: string } {
  try {
    validateCondition(condition, "policy.bindings[0].condition");
  } catch (error) {
    assert.ok(isApiError(error), `expected an ApiError, got ${String(error)}`);
    const violations = (error.details[0]?.["fieldViolations"] ?? []) as Array<{ description: string }>;
    return { status: error.status, message: error.message, description: violations[0]?.description ?? "" };
  }
  assert.fail(`condition ${JSON.stringify(condition)} was accepted`);
}

describe("IAM condition validation (setIamPolicy)", () => {
  const refused: Array<[string, string, RegExp]> = [
    ["an unknown function", "evil()", /evil/],
    ["a non-boolean expression", "1 + 1", /bool.*int/],
    ["a syntax error", "resource.name == ", /./],
    ["an undeclared variable", 'bogus == "x"', /bogus/],
    ["an attribute IAM does not offer", "resource.labels == 1", /labels/],
    ["a backreference (not RE2)", 'resource.name.matches("(a)\\\\1")', /regular expression/],
    ["a lookahead (not RE2)", 'resource.name.matches("(?=a)")', /regular expression/],
    ["an unbalanced pattern", 'resource.name.matches("[")', /regular expression/],
    ["a comprehension macro", '["a"].exists(x, x == resource.name)', /exists/],
    ["the name matches() is rewritten to", 'resource.name.rgRe2Matches("a")', /rgRe2Matches/],
  ];
  for (const [what, expression, reason] of refused) {
    it(`refuses ${what} with Google's 400`, () => {
      const { status, message, description } = refusal({ title: "t", expression });
      assert.equal(status, "INVALID_ARGUMENT");
      assert.equal(message, "Condition expression compilation failed.");
      assert.match(description, reason);
    });
  }

  it("enforces Google's limits on the expression, title and description", () => {
    const long = `resource.name == "${"a".repeat(CONDITION_LIMITS.expressionChars)}"`;
    assert.match(refusal({ title: "t", expression: long }).description, /longer than/);
    const ops = Array.from({ length: CONDITION_LIMITS.logicalOperators + 2 }, () => "true").join(" && ");
    assert.match(refusal({ title: "t", expression: ops }).description, /logical operators/);
    const title = refusal({ title: "t".repeat(CONDITION_LIMITS.titleChars + 1), expression: "true" });
    assert.match(title.message, /title is longer than the maximum of 100/);
    const description = refusal({ title: "t", description: "d".repeat(257), expression: "true" });
    assert.match(description.message, /description is longer than the maximum of 256/);
    assert.equal(refusal({ title: 5, expression: "true" }).status, "INVALID_ARGUMENT");
    assert.equal(refusal({ title: "t" }).status, "INVALID_ARGUMENT");
    assert.equal(refusal("true").status, "INVALID_ARGUMENT");
  });

  it("accepts what Google accepts and keeps only Expr's fields", () => {
    const ops = Array.from({ length: CONDITION_LIMITS.logicalOperators + 1 }, () => "true").join(" && ");
    for (const expression of [
      'request.time < timestamp("2030-01-01T00:00:00Z")',
      'resource.name.startsWith("projects/p/") && resource.type == "run.googleapis.com/Service"',
      'resource.name.matches("^projects/[^/]+/locations/.*/services/api$")',
      'matches(resource.name, "api$")',
      ops,
    ]) {
      assert.deepEqual(validateCondition({ title: "t", expression, extra: 1 }, "c"), { title: "t", expression });
    }
  });
});

describe("IAM condition evaluation", () => {
  it("matches() is RE2: a pathological pattern on a long subject runs in linear time", () => {
    const subject = `${"a".repeat(12_000)}!`;
    const started = performance.now();
    const result = evaluateCompiled(compileCondition({ expression: `"${subject}".matches("^(a+)+$")` }), context);
    const elapsedMs = performance.now() - started;
    assert.equal(result, false);
    // A backtracking engine needs longer than the age of the universe for this subject; RE2 a few ms.
    assert.ok(elapsedMs < 1_000, `took ${elapsedMs} ms`);
  });

  it("matches() is a partial match, as CEL's is", () => {
    assert.equal(evaluate('resource.name.matches("services/api")'), true);
    assert.equal(evaluate('resource.name.matches("^services")'), false);
    assert.equal(evaluate('matches(resource.name, "us-central1")'), true);
  });

  it("a pattern built at evaluation time that RE2 refuses fails closed (an error, no grant)", () => {
    const result = evaluate('resource.name.matches("(a)" + "\\\\1")');
    assert.ok(result instanceof Error);
  });

  it("time and resource attributes evaluate", () => {
    assert.equal(evaluate('request.time < timestamp("2027-01-01T00:00:00Z")'), true);
    assert.equal(evaluate('resource.service == "run.googleapis.com"'), true);
  });
});
