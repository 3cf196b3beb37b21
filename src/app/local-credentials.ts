// Credentials the local CLI hands out. The data directory holds runguard's signing keys, so whoever can read it
// is the root of trust on this machine, like an administrator who can sign in as anyone: the CLI uses that to
// "sign in" a principal (mint its access token, or a user's ID token). Service-account ID tokens for others go
// through IAM Credentials so that IAM decides.
import { join } from "node:path";
import type { Clock } from "../core/clock.js";
import type { Store } from "../store/store.js";
import type { Principal } from "../iam/types.js";
import type { TokenService } from "../tokens/types.js";
import { signInGcloud } from "./gcloud-credentials.js";
import { findServiceAccount } from "../accounts/service-accounts.js";

/** Access tokens for the CLI and gcloud live 12 hours (Google's are 1 hour; a deliberate difference, see README). */
export const LOCAL_ACCESS_TOKEN_SECONDS = 12 * 3600;

export interface LocalSigner {
  store: Store;
  tokens: TokenService;
  clock: Clock;
}

export function principalSlug(principal: Principal): string {
  return principal.kind === "anonymous"
    ? "anonymous"
    : `${principal.kind}-${principal.email}`.replace(/[^A-Za-z0-9@._-]/g, "_");
}

export async function mintAccessToken(
  signer: LocalSigner,
  principal: Exclude<Principal, { kind: "anonymous" }>,
): Promise<string> {
  // A service account's token carries its unique id, which the server checks against the account it has now.
  const account =
    principal.kind === "serviceAccount" ? await findServiceAccount(signer, "-", principal.email) : undefined;
  const issued = await signer.tokens.issueAccessToken({
    principal,
    scopes: ["https://www.googleapis.com/auth/cloud-platform"],
    lifetimeSeconds: LOCAL_ACCESS_TOKEN_SECONDS,
    ...(account ? { uniqueId: account.uniqueId } : {}),
  });
  return issued.token;
}

/** What runguard's API answered a call: whether it succeeded, its HTTP status, and its JSON body (or {}). */
export interface LocalApiAnswer {
  ok: boolean;
  status: number;
  body: { error?: { status?: unknown; message?: string } } & Record<string, unknown>;
}

/**
 * Calls runguard's own Google APIs at `apiUrl` as `principal`, with an access token this signer mints: the path
 * gcloud's calls take (route, authentication, IAM, audit). Rejects only when nothing answers.
 */
export async function callLocalApi(
  signer: LocalSigner,
  apiUrl: string,
  principal: Exclude<Principal, { kind: "anonymous" }>,
  request: { method: string; path: string; body?: unknown },
): Promise<LocalApiAnswer> {
  const token = await mintAccessToken(signer, principal);
  const response = await fetch(`${apiUrl}${request.path}`, {
    method: request.method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
  });
  const body = (await response.json().catch(() => ({}))) as LocalApiAnswer["body"];
  return { ok: response.ok, status: response.status, body };
}

/**
 * Signs the real gcloud in as `principal`, in a configuration directory of its own under the data directory
 * (the CLOUDSDK_CONFIG of `runguard env`), and returns that directory.
 */
export async function signInGcloudAs(
  signer: LocalSigner,
  dataDir: string,
  principal: Exclude<Principal, { kind: "anonymous" }>,
): Promise<string> {
  // Taken before minting, so gcloud's idea of the expiry is never later than the token's.
  const expiresAt = new Date(signer.clock.now() + LOCAL_ACCESS_TOKEN_SECONDS * 1000);
  const token = await mintAccessToken(signer, principal);
  const configDir = join(dataDir, "gcloud", principalSlug(principal));
  signInGcloud(configDir, principal.email, token, expiresAt);
  return configDir;
}
