// Unique id → principal, kept in memory from the store, so that a verifier can name the principal of an ID
// token minted without the email claim (iamcredentials generateIdToken with includeEmail=false).
import type { Store } from "../store/store.js";
import type { Principal } from "../iam/types.js";
import type { ServiceAccount } from "./service-accounts.js";
import type { User } from "./users.js";

type SignedIn = Exclude<Principal, { kind: "anonymous" }>;

export interface SubjectIndex {
  resolve(sub: string): SignedIn | undefined;
  /** True when the account exists and is disabled: its tokens must not be honoured. */
  isDisabled(email: string): boolean;
  close(): void;
}

export async function createSubjectIndex(store: Store): Promise<SubjectIndex> {
  const bySub = new Map<string, SignedIn>();
  const disabled = new Set<string>();
  const load = async () => {
    bySub.clear();
    disabled.clear();
    for (const account of await store.list<ServiceAccount>("serviceAccount")) add("serviceAccount", account);
    for (const user of await store.list<User>("user")) add("user", user);
  };
  const add = (kind: "serviceAccount" | "user", record: { uniqueId: string; email: string; disabled?: boolean }) => {
    bySub.set(record.uniqueId, { kind, email: record.email });
    if (record.disabled) disabled.add(record.email.toLowerCase());
    else disabled.delete(record.email.toLowerCase());
  };
  await load();
  const unsubscribe = store.onChange((change) => {
    if (change.kind === "*") void load();
    else if ((change.kind === "serviceAccount" || change.kind === "user") && change.value) {
      add(change.kind, change.value as ServiceAccount);
    }
  });
  return {
    resolve: (sub) => bySub.get(sub),
    isDisabled: (email) => disabled.has(email.toLowerCase()),
    close: unsubscribe,
  };
}
