// Local users' passwords, for runguard's sign-in page (the stand-in for Google's account sign-in). Only a
// scrypt hash is stored, in its own record kind so that nothing that lists or returns users can carry it.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import type { Store } from "../store/store.js";
import { invalidArgument } from "../core/errors.js";
import { ensureUser, userName } from "./users.js";

/** What this module's operations use. */
export interface UserPasswordsDeps {
  readonly store: Store;
}

interface StoredPassword {
  salt: string;
  hash: string;
  params: { N: number; r: number; p: number };
}

const KIND = "userPassword";
const PARAMS = { N: 16384, r: 8, p: 1 };
const KEY_LENGTH = 32;
export const MIN_PASSWORD_LENGTH = 8;

function derive(password: string, salt: Buffer, params: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, { ...params, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function setUserPassword(deps: UserPasswordsDeps, email: string, password: string) {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw invalidArgument(`A password needs at least ${MIN_PASSWORD_LENGTH} characters.`);
  const user = await ensureUser(deps, email);
  const salt = randomBytes(16);
  const hash = await derive(password, salt, PARAMS);
  const record: StoredPassword = { salt: salt.toString("base64"), hash: hash.toString("base64"), params: PARAMS };
  await deps.store.transact(async (tx) => tx.put(KIND, userName(email), record));
  return user;
}

/** True when the user has a password and it matches; the comparison takes the same time either way. */
export async function checkUserPassword(deps: UserPasswordsDeps, email: string, password: string): Promise<boolean> {
  const record = await deps.store.get<StoredPassword>(KIND, userName(email));
  const salt = record ? Buffer.from(record.salt, "base64") : randomBytes(16);
  const derived = await derive(password, salt, record?.params ?? PARAMS);
  const expected = record ? Buffer.from(record.hash, "base64") : randomBytes(KEY_LENGTH);
  return timingSafeEqual(derived, expected) && record !== undefined;
}

export async function hasPassword(deps: UserPasswordsDeps, email: string): Promise<boolean> {
  return (await deps.store.get<StoredPassword>(KIND, userName(email))) !== undefined;
}

export async function removeUserPassword(deps: UserPasswordsDeps, email: string): Promise<void> {
  await deps.store.transact(async (tx) => tx.delete(KIND, userName(email)));
}
