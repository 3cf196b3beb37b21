// Users are Google accounts: they exist outside any project. runguard records one the first time it mints a
// token for it, so that its numeric id (the `sub` of its tokens) stays stable.
import type { Platform } from "../core/platform.js";
import { numericId } from "../core/ids.js";

export interface User {
  email: string;
  uniqueId: string;
  displayName?: string;
}

export const userName = (email: string) => `users/${email.toLowerCase()}`;

/** The user, recorded with `newId` (a fresh one by default) if this is the first time it is seen. */
export async function ensureUser(platform: Pick<Platform, "store">, email: string, newId?: string): Promise<User> {
  return platform.store.transact(async (tx) => {
    const existing = await tx.get<User>("user", userName(email));
    if (existing) return existing;
    const user: User = { email: email.toLowerCase(), uniqueId: newId ?? numericId() };
    tx.put("user", userName(email), user);
    return user;
  });
}

export async function listUsers(platform: Pick<Platform, "store">): Promise<User[]> {
  return platform.store.list<User>("user");
}
