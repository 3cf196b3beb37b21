import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fixedClock } from "../core/clock.js";
import { createSignInThrottle } from "./sign-in-throttle.js";

describe("sign-in throttle", () => {
  const limits = { windowMs: 300_000, maxPerUser: 5, maxPerClient: 20, maxTracked: 100 };

  it("blocks a user after 5 failures until the oldest leaves the window", () => {
    const clock = fixedClock(0);
    const throttle = createSignInThrottle(clock, limits);
    for (let i = 0; i < 5; i += 1) {
      assert.equal(throttle.blockedForMs("A@example.com", "10.0.0.1"), 0);
      throttle.recordFailure("a@example.com", `10.0.0.${i}`);
      clock.advance(10_000);
    }
    assert.equal(throttle.blockedForMs("a@example.com", "10.0.0.9"), 300_000 - 50_000);
    clock.advance(250_000);
    assert.equal(throttle.blockedForMs("a@example.com", "10.0.0.9"), 0);
  });

  it("blocks an address after 20 failures across users; success clears only the user", () => {
    const clock = fixedClock(0);
    const throttle = createSignInThrottle(clock, limits);
    for (let i = 0; i < 20; i += 1) throttle.recordFailure(`u${i}@example.com`, "10.0.0.1");
    assert.ok(throttle.blockedForMs("new@example.com", "10.0.0.1") > 0);
    assert.equal(throttle.blockedForMs("new@example.com", "10.0.0.2"), 0);
    for (let i = 0; i < 5; i += 1) throttle.recordFailure("b@example.com", "10.0.0.3");
    throttle.recordSuccess("b@example.com");
    assert.equal(throttle.blockedForMs("b@example.com", "10.0.0.4"), 0);
  });

  it("holds at most maxTracked users and addresses, dropping the oldest", () => {
    const throttle = createSignInThrottle(fixedClock(0), limits);
    for (let i = 0; i < 10_000; i += 1) throttle.recordFailure(`u${i}@example.com`, `client-${i}`);
    assert.deepEqual(throttle.size(), { users: 100, clients: 100 });
  });
});
