import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { servingRevisions, tagHosts, validateTraffic } from "./traffic.js";
import type { StoredService } from "./types.js";

const parts = { service: "web", projectNumber: "123456789012", region: "us-central1", urlHash: "abcdefghij" };
const refusal = (raw: unknown, service = "web") => {
  try {
    validateTraffic(raw, service);
  } catch (error) {
    return (error as Error).message;
  }
  return "accepted";
};

describe("Cloud Run traffic targets", () => {
  it("defaults to everything on the latest revision", () => {
    assert.deepEqual(validateTraffic(undefined, "web"), [{ latestRevision: true, percent: 100 }]);
    assert.deepEqual(validateTraffic([], "web"), [{ latestRevision: true, percent: 100 }]);
  });

  it("keeps what a split says, tags included, and drops a 0 percent", () => {
    assert.deepEqual(
      validateTraffic(
        [
          { revisionName: "web-00001-abc", percent: 30 },
          { latestRevision: true, percent: 70 },
          { revisionName: "web-00002-def", percent: 0, tag: "green" },
        ],
        "web",
      ),
      [
        { revisionName: "web-00001-abc", percent: 30 },
        { latestRevision: true, percent: 70 },
        { revisionName: "web-00002-def", tag: "green" },
      ],
    );
  });

  it("refuses what Cloud Run refuses", () => {
    assert.equal(refusal([{ latestRevision: true, percent: 90 }]), "spec.traffic: Traffic targets sum to 90, want 100");
    assert.match(refusal([{ percent: 100 }]), /expected exactly one, got neither/);
    assert.match(refusal([{ revisionName: "web-1", latestRevision: true, percent: 100 }]), /may not set revisionName/);
    assert.match(refusal([{ latestRevision: true, percent: 101 }]), /expected 0 <= 101 <= 100/);
    assert.match(refusal([{ latestRevision: true, percent: 50.5 }]), /percent/);
    assert.match(refusal([{ latestRevision: true, percent: 100, tag: "-x" }]), /Invalid tag '-x'/);
    assert.match(refusal([{ latestRevision: true, percent: 100, tag: "UPPER" }]), /Invalid tag 'UPPER'/);
    assert.match(refusal([{ latestRevision: true, percent: 100, tag: 7 }]), /Invalid tag '7'/);
    assert.match(refusal([{ latestRevision: true, percent: 100, tag: "a".repeat(44) }]), /cannot exceed 46 characters/);
    assert.equal(refusal([{ latestRevision: true, percent: 100, tag: "a".repeat(43) }]), "accepted");
    assert.match(refusal("all"), /must be a list/);
    assert.match(refusal([null]), /must be an object/);
  });

  it("names the revisions that must keep instances: a share or a tag", () => {
    const service = {
      latestReadyRevision: "web-00003-ccc",
      traffic: [
        { revisionName: "web-00001-aaa", percent: 100 },
        { latestRevision: true, tag: "next" },
        { revisionName: "web-00002-bbb" },
      ],
    } as unknown as StoredService;
    assert.deepEqual(servingRevisions(service), ["web-00001-aaa", "web-00003-ccc"]);
  });

  it("gives a tag both URL forms", () => {
    assert.deepEqual(tagHosts("green", parts), [
      "green---web-abcdefghij-uc.a.run.app",
      "green---web-123456789012.us-central1.run.app",
    ]);
    // The longest tag Cloud Run allows with a service name still fits: 46 + "---" + "-" + 12 digits = 62.
    const longest = tagHosts("t".repeat(40), { ...parts, service: "s".repeat(6) });
    assert.equal(longest[1], `${"t".repeat(40)}---ssssss-123456789012.us-central1.run.app`);
  });
});
