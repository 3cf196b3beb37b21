// What applying, exporting and resetting a state work with: the platform's store and IAM engine, acting as the
// project's owner through the same domain functions (and so the same validation and IAM checks) as the APIs.
import type { Clock } from "../core/clock.js";
import type { Config } from "../core/config.js";
import type { Store } from "../store/store.js";
import type { PolicyEngine } from "../iam/engine.js";
import type { Envelope } from "../secrets/envelope.js";
import type { ContainerImageStore } from "../run/container-images.js";
import { createCallContext, type CallContext } from "../iam/call-context.js";
import { requireProject, type Project } from "../accounts/projects.js";
import { validatePolicy } from "../iam/policy.js";
import type { Binding, Policy } from "../iam/types.js";

/** The part of app/platform.ts's Platform these operations use; a whole Platform fits. */
export interface DeclarativePlatform {
  readonly config: Pick<Config, "projectId" | "ownerEmail" | "region">;
  readonly clock: Clock;
  readonly store: Store;
  readonly engine: PolicyEngine;
  readonly envelope: Envelope;
  readonly containerImages?: ContainerImageStore;
}

/** One thing an apply, import or reset changed. Never carries a secret's value. */
export interface StateChange {
  action: "created" | "updated" | "deleted";
  kind:
    | "user"
    | "group"
    | "serviceAccount"
    | "policy"
    | "secret"
    | "secretVersion"
    | "network"
    | "subnetwork"
    | "connector"
    | "address"
    | "image"
    | "service"
    | (string & {});
  name: string;
  detail?: string;
  /** For a change to many resources at once (a reset): how many. */
  count?: number;
}

export interface ApplySummary {
  changes: StateChange[];
  /** Resources the state names that already were as declared. */
  unchanged: number;
  /** What the user should know: a project mapped onto the local one, images standing in for others. */
  notes: string[];
}

export interface Session {
  deps: DeclarativePlatform;
  ctx: CallContext;
  project: Project;
  region: string;
  record(change: StateChange): void;
  same(): void;
  note(text: string): void;
}

export async function openSession(
  deps: DeclarativePlatform,
  onChange: ((change: StateChange) => void) | undefined,
  summary: ApplySummary,
): Promise<Session> {
  const ctx = createCallContext({
    principal: { kind: "user", email: deps.config.ownerEmail },
    serviceName: "runguard.googleapis.com",
    decide: (principal, permission, resource) => deps.engine.decide(principal, permission, resource),
  });
  return {
    deps,
    ctx,
    project: await requireProject(deps, deps.config.projectId),
    region: deps.config.region,
    record(change) {
      summary.changes.push(change);
      onChange?.(change);
    },
    same() {
      summary.unchanged += 1;
    },
    note(text) {
      summary.notes.push(text);
    },
  };
}

/** JSON with object keys sorted, so two values compare equal whatever order their keys were written in. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/** A policy's bindings in one order, members sorted: what two policies that grant the same are equal in. */
export function normalizedBindings(policy: Policy): Binding[] {
  const bindings = validatePolicy({ ...policy, version: 3 }).bindings ?? [];
  return bindings
    .map((b) => ({ ...b, members: [...b.members].sort() }))
    .sort((a, b) => canonical([a.role, a.condition]).localeCompare(canonical([b.role, b.condition])));
}

export const samePolicy = (a: Policy, b: Policy) =>
  canonical(normalizedBindings(a)) === canonical(normalizedBindings(b));
