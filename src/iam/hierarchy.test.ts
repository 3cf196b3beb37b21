import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ancestorsOf } from "./hierarchy.js";

describe("resource hierarchy", () => {
  it("puts a project above everything in it, and a secret above its versions", () => {
    assert.deepEqual(ancestorsOf("projects/p"), ["projects/p"]);
    assert.deepEqual(ancestorsOf("projects/p/locations/r/services/s"), [
      "projects/p/locations/r/services/s",
      "projects/p",
    ]);
    assert.deepEqual(ancestorsOf("projects/p/secrets/x/versions/3"), ["projects/p/secrets/x", "projects/p"]);
  });

  it("nests IAP's resources: service, resource type, iap_web, project", () => {
    assert.deepEqual(ancestorsOf("projects/p/iap_web/compute/services/be"), [
      "projects/p/iap_web/compute/services/be",
      "projects/p/iap_web/compute",
      "projects/p/iap_web",
      "projects/p",
    ]);
    assert.deepEqual(ancestorsOf("projects/p/iap_web/cloud_run-us-central1/services/s"), [
      "projects/p/iap_web/cloud_run-us-central1/services/s",
      "projects/p/iap_web/cloud_run-us-central1",
      "projects/p/iap_web",
      "projects/p",
    ]);
    assert.deepEqual(ancestorsOf("projects/p/iap_web"), ["projects/p/iap_web", "projects/p"]);
  });
});
