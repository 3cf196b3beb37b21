// What reaches a developer's terminal from a state file, a token or an instance carries no control characters:
// members and users with them are refused where they enter; what is shown is made printable.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseMember } from "../../src/iam/members.js";
import { ensureUser } from "../../src/accounts/users.js";
import { createMemoryStore } from "../../src/store/memory-store.js";
import { PLAIN, formatRequest, printableMessage } from "../../src/cli/terminal.js";
import type { RequestLogRow } from "../../src/store/store.js";

const ESCAPES = ["\x1b]0;owned\x07", "\x1b[2J", "\x9b31m", "\x00"];

describe("control characters", () => {
  it("IAM members with control characters are refused", () => {
    for (const escape of ESCAPES) {
      for (const member of [
        `user:a${escape}@example.com`,
        `group:g${escape}@example.com`,
        `serviceAccount:s${escape}@p.iam.gserviceaccount.com`,
        `principal://iam.googleapis.com/x${escape}`,
      ]) {
        assert.throws(() => parseMember(member), { status: "INVALID_ARGUMENT" }, JSON.stringify(member));
      }
    }
    assert.equal(parseMember("user:alice@example.com").value, "alice@example.com");
  });

  it("a user is never recorded with control characters in its email", async () => {
    const store = createMemoryStore();
    for (const escape of ESCAPES) {
      await assert.rejects(ensureUser({ store }, `a${escape}@example.com`), { status: "INVALID_ARGUMENT" });
    }
    assert.equal((await ensureUser({ store }, "bob@example.com")).email, "bob@example.com");
  });

  it("a request line shows the service, principal and reason without them", () => {
    const row = {
      timestampMs: 0,
      projectId: "p",
      serviceName: "svc\x1b[2J",
      region: "r",
      revision: undefined,
      method: "GET",
      url: "https://h/",
      status: 403,
      latencyMs: 1,
      requestSize: 0,
      responseSize: 0,
      userAgent: undefined,
      remoteIp: "",
      principalEmail: "a\x1b]0;x\x07@example.com",
      textPayload: undefined,
      trace: undefined,
      reason: "why\x9b31m",
    } satisfies RequestLogRow;
    assert.doesNotMatch(formatRequest(row, PLAIN), /[\x00-\x1f\x7f-\x9f]/); // eslint-disable-line no-control-regex
  });

  it("runguard's messages keep line breaks and tabs, nothing else", () => {
    assert.equal(printableMessage("a\n\tb\x1b[2Jc\r"), "a\n\tb?[2Jc?");
  });
});
