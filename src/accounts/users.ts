// Users are Google accounts: they exist outside any project. runguard records one the first time it mints a
// token for it, so that its numeric id (the `sub` of its tokens) stays stable.
import type { Store } from "../store/store.js";
import { numericId } from "../core/ids.js";
import { invalidArgument } from "../core/errors.js";
import { isEmailAddress } from "../iam/members.js";

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
  // Every user's email ends up in terminals, logs and tokens: nothing that is not an address is recorded.
  if (!isEmailAddress(email)) throw invalidArgument(`Invalid user email: ${JSON.stringify(email)}.`);
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
