// Users are Google accounts: they exist outside any project. runguard records one the first time it mints a
// token for it, so that its numeric id (the `sub` of its tokens) stays stable.
import type { Store } from "../store/store.js";
import { numericId } from "../core/ids.js";

/** What this module's operations use. */
export interface UsersDeps {
  readonly store: Store;
}

export interface User {
  email: string;
  uniqueId: string;
  displayName?: string;
}

export const userName = (email: string) => `users/${email.toLowerCase()}`;

/** The user, recorded with `newId` (a fresh one by default) if this is the first time it is seen. */
export async function ensureUser(deps: UsersDeps, email: string, newId?: string): Promise<User> {
  return deps.store.transact(async (tx) => {
    const existing = await tx.get<User>("user", userName(email));
    if (existing) return existing;
    const user: User = { email: email.toLowerCase(), uniqueId: newId ?? numericId() };
    tx.put("user", userName(email), user);
    return user;
  });
}

export async function listUsers(deps: UsersDeps): Promise<User[]> {
  return deps.store.list<User>("user");
}
