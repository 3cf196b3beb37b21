// Credentials the local CLI hands out. The data directory holds runguard's signing keys, so whoever can read it
// is the root of trust on this machine, like an administrator who can sign in as anyone: the CLI uses that to
// "sign in" a principal (mint its access token, or a user's ID token). Service-account ID tokens for others go
// through IAM Credentials so that IAM decides.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Clock } from "../core/clock.js";
import type { Store } from "../store/store.js";
import type { Principal } from "../iam/types.js";
import type { TokenService } from "../tokens/types.js";

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
  const issued = await signer.tokens.issueAccessToken({
    principal,
    scopes: ["https://www.googleapis.com/auth/cloud-platform"],
    lifetimeSeconds: LOCAL_ACCESS_TOKEN_SECONDS,
  });
  return issued.token;
}

/** Writes the token where gcloud's auth/access_token_file can read it; only the owner of the file may. */
export function writeTokenFile(dataDir: string, principal: Principal, token: string): string {
  const dir = join(dataDir, "credentials");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${principalSlug(principal)}.token`);
  writeFileSync(file, token, { mode: 0o600 });
  return file;
}
