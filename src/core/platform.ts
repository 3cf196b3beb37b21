// The shared dependencies a domain operation needs. Built once in app/ (the composition root).
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { Store } from "../store/store.js";
import type { TokenService } from "../tokens/types.js";
import type { PolicyEngine } from "../iam/engine.js";
import type { SubjectIndex } from "../accounts/subject-index.js";
import type { Envelope } from "../secrets/envelope.js";

export interface Platform {
  readonly config: Config;
  readonly clock: Clock;
  readonly store: Store;
  readonly engine: PolicyEngine;
  readonly tokens: TokenService;
  /** Service accounts and users by unique id, and which accounts are disabled. */
  readonly subjects: SubjectIndex;
  /** Seals and opens secret payloads with the key-encryption key kept outside the store. */
  readonly envelope: Envelope;
}
