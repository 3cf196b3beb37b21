// A shared deadline must never expire before the timeout of any request that took it, nor more than a second
// after it, and must reach every request listening, however many.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createDeadlines, DeadlineExceededError } from "./deadlines.js";

describe("request deadlines", () => {
  it("shares one deadline per timeout within a second, a new one for another timeout or second", () => {
    let clock = 10_000;
    const deadlines = createDeadlines(() => clock);
    const first = deadlines.forRequest(300_000);
    clock += 999;
    assert.equal(deadlines.forRequest(300_000), first, "same second, same timeout");
    assert.notEqual(deadlines.forRequest(60_000), first, "another timeout");
    clock += 1;
    assert.notEqual(deadlines.forRequest(300_000), first, "the next second");
    deadlines.close();
  });

  it("expires between the timeout and the timeout plus a second, for every listener, with a timeout error", async () => {
    const deadlines = createDeadlines();
    // The deadline's timer does not hold the process open; this test has to.
    const holdOpen = setInterval(() => undefined, 1000);
    const timeoutMs = 50;
    const started = Date.now();
    const deadline = deadlines.forRequest(timeoutMs);
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    let heard = 0;
    for (let i = 0; i < 100; i++) deadline.once("abort", () => heard++);
    assert.equal(deadline.aborted, false);
    await new Promise<void>((resolve) => deadline.once("abort", resolve));
    const waited = Date.now() - started;
    process.off("warning", onWarning);
    assert.ok(waited >= timeoutMs && waited <= timeoutMs + 1000 + 50, `expired after ${waited} ms`);
    assert.equal(heard, 100);
    assert.equal(deadline.aborted, true);
    assert.ok(deadline.reason instanceof DeadlineExceededError);
    assert.equal((deadline.reason as DeadlineExceededError).code, "RUNGUARD_DEADLINE_EXCEEDED");
    assert.deepEqual(warnings, [], "a hundred listeners are not reported as a leak");
    clearInterval(holdOpen);
    deadlines.close();
  });

  it("close expires every pending deadline at once, so no request waits on a stopped front end", async () => {
    const deadlines = createDeadlines();
    const deadline = deadlines.forRequest(300_000);
    let heard = false;
    deadline.once("abort", () => (heard = true));
    deadlines.close();
    assert.equal(heard, true);
    assert.ok(deadline.reason instanceof DeadlineExceededError);
  });

  it("never hands out a deadline that has already expired, and forgets listeners that were removed", () => {
    let clock = 5_000;
    const deadlines = createDeadlines(() => clock);
    const first = deadlines.forRequest(1_000);
    const listener = () => undefined;
    first.once("abort", listener).removeListener("abort", listener);
    assert.equal(first.listenerCount, 0);
    first.expire(new DeadlineExceededError(1_000));
    clock += 10;
    assert.notEqual(deadlines.forRequest(1_000), first, "same second, but the shared one has expired");
    deadlines.close();
  });
});
