// What `runguard up` shows as it happens: each request the front end answers (with runguard's reason when it
// refused), each line an instance writes, instances starting and images building, and each change to what
// decides access (deploys, revisions, IAM policies, secrets), from the store's change feed. Producers call the
// sink on the request path: it must only queue (the terminal writes in its own thread, cli/terminal.ts).
import type { Change, RequestLogRow } from "../store/store.js";
import type { StoredRevision, StoredService, TrafficTarget } from "../run/types.js";
import type { StoredPolicy } from "../policies/policy-ops.js";
import type { StoredSecret, StoredVersion } from "../secrets/types.js";

export type LiveEvent =
  /** `stored`: false for a request refused before Cloud Run would log it (ingress, IAP): kept marked unlogged. */
  | { kind: "request"; row: RequestLogRow; stored: boolean }
  | {
      kind: "line";
      atMs: number;
      service: string;
      instanceId: string;
      stream: "stdout" | "stderr";
      text: string;
    }
  | { kind: "change"; atMs: number; text: string }
  /** Work that may take a while: `begin`, then one `end` with the same key. */
  | { kind: "progress"; phase: "begin"; atMs: number; key: string; label: string }
  | { kind: "progress"; phase: "end"; atMs: number; key: string; ok: boolean; outcome: string };

export type LiveSink = (event: LiveEvent) => void;

/** Names whose last description is remembered, so that a rewrite that changes nothing shown is not shown. */
const REMEMBERED_NAMES = 10_000;
const MAX_TEXT = 400;

const lastSegment = (name: string) => name.slice(name.lastIndexOf("/") + 1);
const clip = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text);

function describeTraffic(service: StoredService): string {
  const target = (t: TrafficTarget) => {
    const revision = t.latestRevision ? `latest (${service.latestReadyRevision ?? "none ready"})` : t.revisionName;
    return `${t.percent ?? 0}% ${revision ?? "?"}${t.tag ? ` tag ${t.tag}` : ""}`;
  };
  return service.traffic.map(target).join(", ") || "no traffic";
}

function describeService(name: string, service: StoredService | undefined): string {
  if (!service) return `service ${lastSegment(name)} deleted`;
  const ingress = service.annotations["run.googleapis.com/ingress"] ?? "all";
  return `service ${service.name}: ${describeTraffic(service)} (ingress ${ingress})`;
}

function describeRevision(name: string, revision: StoredRevision | undefined): string {
  if (!revision) return `revision ${lastSegment(name)} deleted`;
  const image = revision.template.spec.containers[0]?.image ?? "?";
  return `revision ${revision.name} created: image ${image}, runs as ${revision.serviceAccountEmail}`;
}

function describePolicy(name: string, stored: StoredPolicy | undefined): string {
  const bindings = stored?.policy.bindings ?? [];
  const roles = bindings.map((b) => `${b.role}${b.condition ? " (conditional)" : ""} → ${b.members.join(", ")}`);
  return `IAM policy of ${name} set: ${roles.join("; ") || "no bindings"}`;
}

/** Names and states only: a version's document holds its sealed payload, which is never read here. */
function describeSecret(change: Change): string | undefined {
  if (change.kind === "secret") {
    const secret = change.value as StoredSecret | undefined;
    if (!secret) return `secret ${lastSegment(change.name)} deleted`;
    // Later rewrites add versions (told by the version's own change) or labels.
    return secret.lastVersion === 0 ? `secret ${secret.secretId} created` : undefined;
  }
  const version = change.value as StoredVersion | undefined;
  const secretId = change.name.replace(/\/versions\/[^/]+$/, "").replace(/^.*\//, "");
  return version
    ? `secret ${secretId} version ${version.version}: ${version.state}`
    : `secret ${secretId} version ${lastSegment(change.name)} deleted`;
}

function describeChange(change: Change): string | undefined {
  switch (change.kind) {
    case "service":
      return describeService(change.name, change.value as StoredService | undefined);
    case "revision":
      return describeRevision(change.name, change.value as StoredRevision | undefined);
    case "policy":
      return describePolicy(change.name, change.value as StoredPolicy | undefined);
    case "secret":
    case "secretVersion":
      return describeSecret(change);
    default:
      // "*" (another process changed the store: it says nothing of what) and kinds that do not decide access.
      return undefined;
  }
}

/** A listener for Store.onChange that tells `sink` of changes to what decides access, once each. */
export function watchChanges(sink: LiveSink, now: () => number): (change: Change) => void {
  const shown = new Map<string, string>();
  return (change) => {
    const text = describeChange(change);
    if (text === undefined) return;
    const key = `${change.kind} ${change.name}`;
    if (shown.get(key) === text) return;
    if (shown.size >= REMEMBERED_NAMES) shown.clear();
    shown.set(key, text);
    sink({ kind: "change", atMs: now(), text: clip(text) });
  };
}

/** Tells `sink` of a piece of work from its start to its end, whatever it resolves to. */
export function watchProgress<T>(sink: LiveSink, now: () => number, key: string, label: string, work: Promise<T>) {
  sink({ kind: "progress", phase: "begin", atMs: now(), key, label });
  work.then(
    () => sink({ kind: "progress", phase: "end", atMs: now(), key, ok: true, outcome: "done" }),
    (error: unknown) =>
      sink({ kind: "progress", phase: "end", atMs: now(), key, ok: false, outcome: failureText(error) }),
  );
  return work;
}

/** The first line of an error's message, short: start and build errors name what is missing, never a secret. */
export function failureText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `failed: ${clip(message.split("\n")[0] ?? "")}`;
}
