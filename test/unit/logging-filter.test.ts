import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { RE2JS } from "re2js";
import {
  MAX_FILTER_DEPTH,
  MAX_FILTER_LENGTH,
  MAX_FILTER_TERMS,
  parseLogFilter as parseWith,
  type LogEntryJson,
} from "../../src/core/logging-filter.js";
import { isApiError } from "../../src/core/errors.js";

/** As the control plane parses filters: regular expressions on RE2. */
const parseLogFilter = (filter: string) =>
  parseWith(filter, (pattern) => {
    const compiled = RE2JS.compile(pattern);
    return (text) => compiled.matcher(text).find();
  });

const request: LogEntryJson = {
  logName: "projects/p/logs/run.googleapis.com%2Frequests",
  resource: {
    type: "cloud_run_revision",
    labels: { service_name: "api", location: "us-central1", revision_name: "api-00001-abc", project_id: "p" },
  },
  httpRequest: { requestMethod: "GET", requestUrl: "https://api-x.run.app/admin", status: 403, latency: "0.012000s" },
  severity: "WARNING",
  timestamp: "2026-06-01T12:00:00.000Z",
  labels: { "runguard.dev/principal": "alice@example.com" },
};
const stdout: LogEntryJson = {
  logName: "projects/p/logs/run.googleapis.com%2Fstdout",
  resource: { type: "cloud_run_revision", labels: { service_name: "worker", location: "europe-west1" } },
  textPayload: "Listening on port 8080",
  severity: "INFO",
  timestamp: "2026-06-01T11:00:00.000Z",
  labels: { instanceId: "00a1" },
};
const structured: LogEntryJson = {
  logName: "projects/p/logs/run.googleapis.com%2Fstdout",
  jsonPayload: { message: "order failed", order: { id: 42, items: ["book", "pen"] } },
  severity: "ERROR",
  timestamp: "2026-06-01T13:00:00.000Z",
};
const audit: LogEntryJson = {
  logName: "projects/p/logs/cloudaudit.googleapis.com%2Factivity",
  protoPayload: { methodName: "google.iam.admin.v1.CreateServiceAccount", status: { code: 7 } },
  resource: { type: "service_account", labels: { project_id: "p" } },
  timestamp: "2026-06-01T10:00:00.000Z",
};
const ALL = { request, stdout, structured, audit };

/** The names of the sample entries the filter matches. */
function matching(filter: string): string[] {
  const parsed = parseLogFilter(filter);
  return Object.entries(ALL)
    .filter(([, entry]) => parsed.matches(entry))
    .map(([name]) => name);
}

function refusal(filter: string): string {
  try {
    parseLogFilter(filter);
  } catch (error) {
    assert.ok(isApiError(error), `not an ApiError: ${String(error)}`);
    assert.equal(error.status, "INVALID_ARGUMENT");
    return error.message;
  }
  assert.fail(`accepted: ${filter}`);
}

describe("Logging filter", () => {
  it("matches everything when empty", () => {
    assert.deepEqual(matching(""), ["request", "stdout", "structured", "audit"]);
    assert.deepEqual(matching("   "), ["request", "stdout", "structured", "audit"]);
  });

  it("compares resource fields, logName and labels, quoted or not", () => {
    assert.deepEqual(matching('resource.type="cloud_run_revision"'), ["request", "stdout"]);
    assert.deepEqual(matching("resource.labels.service_name = api"), ["request"]);
    assert.deepEqual(matching("resource.labels.location = europe-west1"), ["stdout"]);
    assert.deepEqual(matching('logName="projects/p/logs/run.googleapis.com%2Fstdout"'), ["stdout", "structured"]);
    assert.deepEqual(matching('labels.instanceId="00a1"'), ["stdout"]);
    assert.deepEqual(matching('labels."runguard.dev/principal"="alice@example.com"'), ["request"]);
    assert.deepEqual(matching('log_id("cloudaudit.googleapis.com/activity")'), ["audit"]);
  });

  it("orders severities and treats a missing one as DEFAULT", () => {
    assert.deepEqual(matching("severity>=WARNING"), ["request", "structured"]);
    assert.deepEqual(matching("severity >= DEFAULT"), ["request", "stdout", "structured", "audit"]);
    assert.deepEqual(matching("severity<INFO"), ["audit"]);
    assert.deepEqual(matching("severity=error"), ["structured"]);
    assert.deepEqual(matching("severity>=400"), ["request", "structured"]);
  });

  it("compares timestamps as instants and reports the window", () => {
    assert.deepEqual(matching('timestamp>="2026-06-01T11:30:00Z"'), ["request", "structured"]);
    assert.deepEqual(matching('timestamp<"2026-06-01T12:00:00+00:00"'), ["stdout", "audit"]);
    assert.deepEqual(matching('timestamp>="2026-06-01T13:00:00.000+01:00" timestamp<"2026-06-01T12:00:01Z"'), [
      "request",
    ]);
    const window = parseLogFilter('timestamp>="2026-06-01T11:00:00Z" AND timestamp<"2026-06-01T12:00:00Z"');
    assert.equal(window.timestampFromMs, Date.parse("2026-06-01T11:00:00Z"));
    assert.equal(window.timestampBeforeMs, Date.parse("2026-06-01T12:00:00Z") + 1);
    // Under an OR, a bound narrows nothing.
    assert.equal(parseLogFilter('timestamp>="2026-06-01T11:00:00Z" OR severity=ERROR').timestampFromMs, undefined);
  });

  it("compares httpRequest.status as a number", () => {
    assert.deepEqual(matching("httpRequest.status=403"), ["request"]);
    assert.deepEqual(matching("httpRequest.status>=400 httpRequest.status<500"), ["request"]);
    assert.deepEqual(matching("httpRequest.status>=500"), []);
    assert.deepEqual(matching('httpRequest.latency>"0.01s"'), ["request"]);
    assert.deepEqual(matching('httpRequest.requestMethod="GET"'), ["request"]);
  });

  it("searches payloads with :, =~ and !~", () => {
    assert.deepEqual(matching("textPayload:listening"), ["stdout"]);
    assert.deepEqual(matching('textPayload:"PORT 8080"'), ["stdout"]);
    assert.deepEqual(matching('textPayload=~"^Listen.*\\d+$"'), ["stdout"]);
    assert.deepEqual(matching('textPayload!~"port"'), []);
    assert.deepEqual(matching('jsonPayload.message="order failed"'), ["structured"]);
    assert.deepEqual(matching("jsonPayload.order.id=42"), ["structured"]);
    assert.deepEqual(matching("jsonPayload.order.items=pen"), ["structured"]);
    assert.deepEqual(matching("jsonPayload:*"), ["structured"]);
    assert.deepEqual(matching("jsonPayload.order:book"), ["structured"]);
    assert.deepEqual(matching('protoPayload.methodName:"CreateServiceAccount"'), ["audit"]);
    assert.deepEqual(matching("protoPayload.status.code=7"), ["audit"]);
    assert.deepEqual(matching("httpRequest.status:*"), ["request"]);
  });

  it("combines with AND, OR, NOT, - and parentheses, OR binding tighter than AND", () => {
    assert.deepEqual(matching('resource.type="cloud_run_revision" AND httpRequest.status=403'), ["request"]);
    assert.deepEqual(matching("severity=ERROR OR severity=INFO"), ["stdout", "structured"]);
    assert.deepEqual(matching("NOT resource.type=cloud_run_revision"), ["structured", "audit"]);
    assert.deepEqual(matching("-resource.type=cloud_run_revision"), ["structured", "audit"]);
    assert.deepEqual(matching("-(severity=ERROR OR severity=INFO)"), ["request", "audit"]);
    // (request OR stdout) AND stdout-log, not request OR (stdout AND stdout-log).
    assert.deepEqual(
      matching('httpRequest.status=403 OR labels.instanceId="00a1" log_id("run.googleapis.com/stdout")'),
      ["stdout"],
    );
    assert.deepEqual(matching("((severity=WARNING))"), ["request"]);
  });

  it("searches every field for a bare word or string", () => {
    assert.deepEqual(matching('"alice@example.com"'), ["request"]);
    assert.deepEqual(matching("listening"), ["stdout"]);
    assert.deepEqual(matching("CreateServiceAccount 7"), ["audit"]);
  });

  it("refuses bad syntax and unsupported fields with INVALID_ARGUMENT", () => {
    assert.match(refusal("severity>="), /Unparseable filter: a value must follow '>='/);
    assert.match(refusal("(severity=ERROR"), /missing '\)'/);
    assert.match(refusal("severity=ERROR)"), /unbalanced '\)'/);
    assert.match(refusal('textPayload="abc'), /unterminated string/);
    assert.match(refusal("severity=LOUD"), /not a severity/);
    assert.match(refusal('timestamp>="yesterday"'), /not an RFC 3339 timestamp/);
    assert.match(refusal('textPayload=~"("'), /invalid regular expression/);
    assert.match(refusal("operation.id=1"), /Unsupported field 'operation.id'.*runguard filters on/);
    assert.match(refusal("resource.labels=x"), /Unsupported field 'resource.labels'/);
    assert.match(refusal("severity=ERROR AND"), /unexpected end/);
    assert.match(refusal("a ! b"), /'!' must be part of/);
    assert.match(refusal("=3"), /unexpected '='/);
  });

  it("bounds nesting and length", () => {
    const deep = "(".repeat(MAX_FILTER_DEPTH + 1) + "severity=ERROR" + ")".repeat(MAX_FILTER_DEPTH + 1);
    assert.match(refusal(deep), /nested deeper than/);
    assert.match(refusal("NOT ".repeat(4_000) + "a"), /nested deeper than/);
    assert.match(refusal("a".repeat(MAX_FILTER_LENGTH + 1)), /at most 20000/);
    const shallow = "(".repeat(MAX_FILTER_DEPTH) + "severity=ERROR" + ")".repeat(MAX_FILTER_DEPTH);
    assert.equal(parseLogFilter(shallow).matches(structured), true);
  });

  it("never throws anything but INVALID_ARGUMENT, on any input", () => {
    const pieces = fc.constantFrom(
      "(",
      ")",
      '"',
      "\\",
      "=",
      "!=",
      ":",
      "=~",
      ">=",
      "<",
      "AND ",
      "OR ",
      "NOT ",
      "-",
      " ",
      "severity",
      "timestamp",
      "httpRequest.status",
      "jsonPayload.a.b",
      "labels.x",
      "log_id",
      ".",
      "*",
      "ERROR",
      "403",
      '"2026-06-01T00:00:00Z"',
      "[",
      "a{1000}{1000}",
    );
    const filters = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.array(pieces, { maxLength: 60 }).map((p) => p.join("")),
    );
    fc.assert(
      fc.property(filters, (filter) => {
        try {
          const parsed = parseLogFilter(filter);
          for (const entry of Object.values(ALL)) assert.equal(typeof parsed.matches(entry), "boolean");
        } catch (error) {
          assert.ok(isApiError(error) && error.status === "INVALID_ARGUMENT", `${filter}: ${String(error)}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("parses a long flat filter in bounded time", () => {
    const terms = (n: number) => Array.from({ length: n }, (_, i) => `labels.k${i % 10}=v`).join(" OR ");
    const started = performance.now();
    const parsed = parseLogFilter(terms(MAX_FILTER_TERMS));
    assert.equal(parsed.matches(request), false);
    // A filter of the most characters has more terms than allowed: refused while parsing, before any entry.
    const longest = terms(1500)
      .slice(0, MAX_FILTER_LENGTH)
      .replace(/ OR [^ ]*$/, "");
    assert.throws(
      () => parseLogFilter(longest),
      (error: unknown) => isApiError(error),
    );
    assert.ok(performance.now() - started < 1000);
  });
});

describe("logging filter bounds on work", () => {
  it(`refuses more than ${MAX_FILTER_TERMS} terms with INVALID_ARGUMENT, and takes ${MAX_FILTER_TERMS}`, () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(" OR ");
    assert.doesNotThrow(() => parseLogFilter(words(MAX_FILTER_TERMS)));
    assert.throws(
      () => parseLogFilter(words(MAX_FILTER_TERMS + 1)),
      (error: unknown) =>
        isApiError(error) && error.status === "INVALID_ARGUMENT" && /at most 200 are allowed/.test(error.message),
    );
    // Comparisons count too, parentheses do not.
    const comparisons = Array.from({ length: MAX_FILTER_TERMS + 1 }, () => "(severity>=ERROR)").join(" ");
    assert.throws(
      () => parseLogFilter(comparisons),
      (error: unknown) => isApiError(error),
    );
  });

  it("searches an entry's fields once however many words the filter has", () => {
    let reads = 0;
    const entry: LogEntryJson = { logName: "projects/p/logs/x", textPayload: "plain text" };
    Object.defineProperty(entry, "jsonPayload", {
      enumerable: true,
      get: () => {
        reads += 1;
        return { message: "hello" };
      },
    });
    const filter = parseLogFilter(Array.from({ length: 50 }, (_, i) => `"absent${i}"`).join(" OR "));
    const meter = { units: 0 };
    assert.equal(filter.matches(entry, meter), false);
    assert.equal(reads, 1, "the entry's leaves were collected once, not once per word");
    assert.ok(meter.units >= 50 * "plain text".length, "each word's search is counted as work");
  });

  it("searches values nested deeply without overflowing the stack, blind below 64 levels", () => {
    let value: unknown = "bottom-word";
    for (let i = 0; i < 100_000; i++) value = [value];
    const deep: LogEntryJson = { textPayload: "top-word", jsonPayload: { nested: value } };
    assert.equal(parseLogFilter("top-word").matches(deep), true);
    assert.equal(parseLogFilter("bottom-word").matches(deep), false);
    assert.equal(parseLogFilter("jsonPayload.nested:bottom").matches(deep), false);
    let shallow: unknown = "near-word";
    for (let i = 0; i < 10; i++) shallow = [shallow];
    assert.equal(parseLogFilter("near-word").matches({ jsonPayload: { nested: shallow } }), true);
  });
});
