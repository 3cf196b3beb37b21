// Unique id → principal, kept in memory from the store, so that a verifier can name the principal of an ID
// token minted without the email claim (iamcredentials generateIdToken with includeEmail=false), and email →
// unique id of service accounts, so that a token bound to an account is refused once that account is deleted or
// another is created under its email.
import type { Store } from "../store/store.js";
import type { Principal } from "../iam/types.js";
import type { ServiceAccount } from "./service-accounts.js";
import { userName, type User } from "./users.js";

type SignedIn = Exclude<Principal, { kind: "anonymous" }>;
type AccountKind = "serviceAccount" | "user";
interface AccountRecord {
  uniqueId: string;
  email: string;
  disabled?: boolean;
}

export interface SubjectIndex {
  resolve(sub: string): SignedIn | undefined;
  /** True when the account exists and is disabled: its tokens must not be honoured. */
  isDisabled(email: string): boolean;
  /** The unique id of the service account that has this email now; undefined when there is none. */
  serviceAccountUniqueId(email: string): string | undefined;
  /** Called after a service account is created, changed or deleted (once the index knows of it). */
  onServiceAccountChange(listener: () => void): () => void;
  close(): void;
}

/** One consistent view of the accounts; replaced whole on a reload, so that readers never see it half-filled. */
interface Index {
  bySub: Map<string, SignedIn>;
  /** Document name → the record, to know what a deletion removes. */
  byName: Map<string, { kind: AccountKind; record: AccountRecord }>;
  serviceAccountIds: Map<string, string>;
  disabled: Set<string>;
}

const emptyIndex = (): Index => ({
  bySub: new Map(),
  byName: new Map(),
  serviceAccountIds: new Map(),
  disabled: new Set(),
});

function add(index: Index, kind: AccountKind, name: string, record: AccountRecord): void {
  remove(index, name);
  const email = record.email.toLowerCase();
  index.byName.set(name, { kind, record });
  index.bySub.set(record.uniqueId, { kind, email: record.email });
  if (kind === "serviceAccount") index.serviceAccountIds.set(email, record.uniqueId);
  if (record.disabled) index.disabled.add(email);
  else index.disabled.delete(email);
}

function remove(index: Index, name: string): void {
  const known = index.byName.get(name);
  if (!known) return;
  const email = known.record.email.toLowerCase();
  index.byName.delete(name);
  index.bySub.delete(known.record.uniqueId);
  if (known.kind === "serviceAccount" && index.serviceAccountIds.get(email) === known.record.uniqueId)
    index.serviceAccountIds.delete(email);
  index.disabled.delete(email);
}

export async function createSubjectIndex(store: Store): Promise<SubjectIndex> {
  let index = emptyIndex();
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const listener of listeners) listener();
  };
  const load = async () => {
    const next = emptyIndex();
    for (const account of await store.list<ServiceAccount>("serviceAccount"))
      add(next, "serviceAccount", account.name, account);
    for (const user of await store.list<User>("user")) add(next, "user", userName(user.email), user);
    index = next;
    changed();
  };
  await load();
  const unsubscribe = store.onChange((change) => {
    if (change.kind === "*") void load();
    else if (change.kind === "serviceAccount" || change.kind === "user") {
      if (change.value) add(index, change.kind, change.name, change.value as AccountRecord);
      else remove(index, change.name);
      if (change.kind === "serviceAccount") changed();
    }
  });
  return {
    resolve: (sub) => index.bySub.get(sub),
    isDisabled: (email) => index.disabled.has(email.toLowerCase()),
    serviceAccountUniqueId: (email) => index.serviceAccountIds.get(email.toLowerCase()),
    onServiceAccountChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close() {
      unsubscribe();
      listeners.clear();
    },
  };
}
