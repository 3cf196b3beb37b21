// The unique ids IAP vouches with, kept in memory from the store's change feed: a user's (the assertion's sub
// and x-goog-authenticated-user-id) and IAP's service agent's (the sub of the token IAP calls services with).
// A user IAP sees for the first time is recorded off the request path.
import type { Store } from "../store/store.js";
import { serviceAccountName, type ServiceAccount } from "../accounts/service-accounts.js";
import { ensureUser, userName, type User } from "../accounts/users.js";
import { numericId } from "../core/ids.js";

export interface IapAccounts {
  /** The user's unique id; a new user gets one at once, written to the store in the background. */
  userId(email: string): string;
  /** A service account's unique id by resource name (projects/P/serviceAccounts/EMAIL); undefined if absent. */
  serviceAccountId(resource: string): string | undefined;
  /** Resolves once every user recorded so far is in the store. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function openIapAccounts(store: Store): Promise<IapAccounts> {
  /** Unique ids by store name: users/EMAIL and projects/P/serviceAccounts/EMAIL. */
  let ids = new Map<string, string>();
  let writes: Promise<void> = Promise.resolve();

  const load = async () => {
    const loaded = new Map<string, string>();
    for (const user of await store.list<User>("user")) loaded.set(userName(user.email), user.uniqueId);
    for (const account of await store.list<ServiceAccount>("serviceAccount"))
      loaded.set(serviceAccountName(account.projectId, account.email), account.uniqueId);
    ids = loaded;
  };
  await load();
  const unsubscribe = store.onChange((change) => {
    if (change.kind === "*") void load().catch(() => undefined);
    else if (change.kind === "user" || change.kind === "serviceAccount") {
      const value = change.value as { uniqueId: string } | undefined;
      if (value) ids.set(change.name, value.uniqueId);
      else ids.delete(change.name);
    }
  });

  return {
    userId(email) {
      const name = userName(email);
      const known = ids.get(name);
      if (known) return known;
      const uniqueId = numericId();
      ids.set(name, uniqueId);
      // Should another process have recorded the user meanwhile, its id is the one kept, from then on here too.
      writes = writes.then(() =>
        ensureUser({ store }, email, uniqueId).then(
          (user) => void ids.set(name, user.uniqueId),
          () => undefined,
        ),
      );
      return uniqueId;
    },
    serviceAccountId: (resource) => ids.get(resource),
    flush: () => writes,
    async close() {
      unsubscribe();
      await writes;
    },
  };
}
