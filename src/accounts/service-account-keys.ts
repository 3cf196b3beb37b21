// User-managed service-account keys. Creating one works as in Google (the private key is returned once and
// never stored); every key is recorded so that the analyzer can flag it.
import { generateKeyPairSync } from "node:crypto";
import { invalidArgument, notFound } from "../core/errors.js";
import type { CallContext } from "../iam/call-context.js";
import type { Clock } from "../core/clock.js";
import type { Store } from "../store/store.js";
import { hexId } from "../core/ids.js";
import { toRfc3339 } from "../core/clock.js";
import type { ServiceAccount } from "./service-accounts.js";

/** What this module's operations use. */
export interface ServiceAccountKeysDeps {
  readonly clock: Clock;
  readonly store: Store;
}

export interface ServiceAccountKey {
  name: string;
  keyId: string;
  serviceAccountEmail: string;
  publicKeyPem: string;
  validAfterTime: string;
  validBeforeTime: string;
  keyAlgorithm: "KEY_ALG_RSA_2048";
  keyOrigin: "GOOGLE_PROVIDED";
  keyType: "USER_MANAGED";
  disabled?: boolean;
}

/**
 * Google's own token URL, which google-auth-library 10 uses whatever the file says; runguard answers it through
 * the proxy (and CONNECT) `runguard env` sets, and gcloud follows CLOUDSDK_AUTH_TOKEN_HOST.
 */
export const GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";
const PRIVATE_KEY_TYPES = ["TYPE_UNSPECIFIED", "TYPE_PKCS12_FILE", "TYPE_GOOGLE_CREDENTIALS_FILE"];
const KEY_LIFETIME_MS = 10_000 * 365 * 24 * 3600 * 1000;

export interface CreatedKey {
  key: ServiceAccountKey;
  privateKeyType: string;
  /** base64 of the JSON credentials file: returned to the caller once, never stored or logged. */
  privateKeyData: string;
}

export async function createServiceAccountKey(
  deps: ServiceAccountKeysDeps,
  ctx: CallContext,
  account: ServiceAccount,
  request: { privateKeyType?: unknown; keyAlgorithm?: unknown },
): Promise<CreatedKey> {
  ctx.authorize("iam.serviceAccountKeys.create", account.name);
  const privateKeyType = request.privateKeyType ?? "TYPE_GOOGLE_CREDENTIALS_FILE";
  if (typeof privateKeyType !== "string" || !PRIVATE_KEY_TYPES.includes(privateKeyType)) {
    throw invalidArgument(`Invalid value at 'private_key_type': ${JSON.stringify(privateKeyType)}`);
  }
  if (privateKeyType === "TYPE_PKCS12_FILE") {
    throw invalidArgument("P12 keys are not supported by runguard; use TYPE_GOOGLE_CREDENTIALS_FILE.");
  }
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyId = hexId(20);
  const now = deps.clock.now();
  const key: ServiceAccountKey = {
    name: `${account.name}/keys/${keyId}`,
    keyId,
    serviceAccountEmail: account.email,
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    validAfterTime: toRfc3339(now),
    validBeforeTime: toRfc3339(now + KEY_LIFETIME_MS),
    keyAlgorithm: "KEY_ALG_RSA_2048",
    keyOrigin: "GOOGLE_PROVIDED",
    keyType: "USER_MANAGED",
  };
  await deps.store.transact(async (tx) => tx.put("serviceAccountKey", key.name, key));
  const credentials = {
    type: "service_account",
    project_id: account.projectId,
    private_key_id: keyId,
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    client_email: account.email,
    client_id: account.uniqueId,
    auth_uri: "https://accounts.google.com/o/oauth2/auth",
    token_uri: GOOGLE_TOKEN_URI,
    auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(account.email)}`,
    universe_domain: "googleapis.com",
  };
  return {
    key,
    privateKeyType: privateKeyType === "TYPE_UNSPECIFIED" ? "TYPE_GOOGLE_CREDENTIALS_FILE" : privateKeyType,
    privateKeyData: Buffer.from(JSON.stringify(credentials, null, 2)).toString("base64"),
  };
}

export async function listServiceAccountKeys(
  deps: ServiceAccountKeysDeps,
  ctx: CallContext,
  account: ServiceAccount,
): Promise<ServiceAccountKey[]> {
  ctx.authorize("iam.serviceAccountKeys.list", account.name);
  return deps.store.list<ServiceAccountKey>("serviceAccountKey", `${account.name}/keys/`);
}

export async function requireServiceAccountKey(
  deps: ServiceAccountKeysDeps,
  ctx: CallContext,
  account: ServiceAccount,
  keyId: string,
  permission: string,
): Promise<ServiceAccountKey> {
  ctx.authorize(permission, account.name);
  const key = await deps.store.get<ServiceAccountKey>("serviceAccountKey", `${account.name}/keys/${keyId}`);
  if (!key) throw notFound(`Service account key ${keyId} does not exist.`);
  return key;
}

export async function deleteServiceAccountKey(deps: ServiceAccountKeysDeps, key: ServiceAccountKey): Promise<void> {
  await deps.store.transact(async (tx) => tx.delete("serviceAccountKey", key.name));
}

/**
 * The enabled keys that may have signed an assertion or a self-signed JWT: the one its `kid` names, or, when it
 * names none (google-auth-library's token requests carry none) or one that no longer exists (a deleted key),
 * every key of the account in its `iss`, as Google tries them; the signature check then decides.
 */
export async function assertionKeyCandidates(
  deps: ServiceAccountKeysDeps,
  kid: string | undefined,
  issuer: string | undefined,
): Promise<ServiceAccountKey[]> {
  const live = (await deps.store.list<ServiceAccountKey>("serviceAccountKey")).filter((k) => !k.disabled);
  const named = kid ? live.filter((k) => k.keyId === kid) : [];
  if (named.length > 0) return named;
  const account = issuer?.toLowerCase();
  return account === undefined ? [] : live.filter((k) => k.serviceAccountEmail.toLowerCase() === account);
}
