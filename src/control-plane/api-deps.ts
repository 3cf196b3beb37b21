// What control-plane handlers and the server use of the running platform. app/ builds it once; handlers pass it
// on to the domain operations they call.
import type { Clock } from "../core/clock.js";
import type { Config } from "../core/config.js";
import type { Store } from "../store/store.js";
import type { TokenService } from "../tokens/types.js";
import type { PolicyEngine } from "../iam/engine.js";
import type { SubjectIndex } from "../accounts/subject-index.js";
import type { Envelope } from "../secrets/envelope.js";
import type { ContainerImageStore } from "../run/container-images.js";
import type { SourceBuildsRuntime } from "../builds/types.js";

export interface ApiDeps {
  readonly config: Config;
  readonly clock: Clock;
  readonly store: Store;
  readonly engine: PolicyEngine;
  readonly tokens: TokenService;
  /** Who is disabled (the server refuses their tokens), and accounts by unique id. */
  readonly subjects: SubjectIndex;
  /** Seals and opens secret payloads. */
  readonly envelope: Envelope;
  /** The local container image store (podman's), or one that knows no image where containers cannot run. */
  readonly containerImages: ContainerImageStore;
  /** Uploaded objects' and builds' directories, resumable uploads in progress, and the build queue. */
  readonly sourceBuilds: SourceBuildsRuntime;
}
