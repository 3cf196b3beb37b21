// Keeps the in-memory policy engine equal to the store: loaded once at start, then fed by the change feed
// (and fully reloaded when another process, such as the CLI, changed the store).
import type { PolicyEngine } from "../iam/engine.js";
import type { Group } from "../iam/types.js";
import type { Change, Store } from "../store/store.js";
import type { StoredPolicy } from "../policies/policy-ops.js";

export async function loadEngine(store: Store, engine: PolicyEngine): Promise<void> {
  engine.reset();
  for (const stored of await store.list<StoredPolicy>("policy")) engine.setPolicy(stored.resource, stored.policy);
  for (const group of await store.list<Group>("group")) engine.setGroup(group.email, group);
}

export function applyChange(engine: PolicyEngine, change: Change): void {
  if (change.kind === "policy") {
    const stored = change.value as StoredPolicy | undefined;
    engine.setPolicy(change.name, stored?.policy);
  } else if (change.kind === "group") {
    engine.setGroup(change.name.replace(/^groups\//, ""), change.value as Group | undefined);
  }
}

export async function syncEngine(store: Store, engine: PolicyEngine): Promise<() => void> {
  await loadEngine(store, engine);
  return store.onChange((change) => {
    if (change.kind === "*") void loadEngine(store, engine);
    else applyChange(engine, change);
  });
}
