// The v2 → Knative mapping keeps proto3's meaning of defaults, and refuses what runguard cannot mount instead of
// mounting something else.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../../core/errors.js";
import { knativeInputOf, type V2Service } from "./run-v2.js";
import type { RevisionSpec, Volume } from "../../run/types.js";

const withSecretVolume = (item: Record<string, unknown>, mount: Record<string, unknown> = {}): V2Service => ({
  template: {
    containers: [{ image: "example/app", volumeMounts: [{ name: "keys", mountPath: "/secrets/app", ...mount }] }],
    volumes: [{ name: "keys", secret: { secret: "api-key", items: [{ path: "current", ...item }], defaultMode: 0 } }],
  },
});

/** The first volume of the Knative template a v2 service maps to. */
const firstVolume = (service: V2Service): Volume | undefined =>
  (knativeInputOf("svc", service).spec?.template as { spec: RevisionSpec }).spec.volumes?.[0];

describe("Run Admin v2 secret volumes", () => {
  it("reads a mode of 0 as the mode left unset, as proto3 does", () => {
    const volume = firstVolume(withSecretVolume({ version: "2", mode: 0 }));
    assert.deepEqual(volume?.secret, { secretName: "api-key", items: [{ key: "2", path: "current" }] });
  });

  it("keeps a mode that is set", () => {
    const volume = firstVolume(withSecretVolume({ mode: 0o400 }));
    assert.deepEqual(volume?.secret?.items, [{ key: "latest", path: "current", mode: 0o400 }]);
  });

  it("refuses a mount of a volume's subPath with UNIMPLEMENTED rather than mounting the whole volume", () => {
    assert.throws(
      () => knativeInputOf("svc", withSecretVolume({}, { subPath: "current" })),
      (error: unknown) =>
        error instanceof ApiError && error.status === "UNIMPLEMENTED" && /subPath/.test(error.message),
    );
    assert.doesNotThrow(() => knativeInputOf("svc", withSecretVolume({}, { subPath: "" })), "empty is unset");
  });
});
