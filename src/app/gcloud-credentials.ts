// Signs the real gcloud in as a principal the way `gcloud auth login` leaves it: the account in gcloud's
// credential store (credentials.db), runguard's access token in its token cache (access_tokens.db) and
// `core/account` in its configuration. gcloud then names the account where it does against Google
// ("[alice@example.com] does not have permission to access …", `gcloud auth list`). With an access-token file
// (auth/access_token_file) gcloud never knows whose token it holds and prints `[None]`.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

/**
 * An OAuth user credential whose refresh token is the access token itself: runguard's token endpoint answers a
 * refresh with that token until it expires (control-plane/apis/oauth.ts), then gcloud asks to sign in again.
 */
const credentialFor = (accessToken: string) =>
  JSON.stringify({
    type: "authorized_user",
    client_id: "runguard-env",
    client_secret: "runguard-env",
    refresh_token: accessToken,
  });

/** gcloud's TIMESTAMP column: naive UTC, `YYYY-MM-DD HH:MM:SS.fff`. */
const sqliteTimestamp = (at: Date) => at.toISOString().replace("T", " ").replace("Z", "");

function upsert(file: string, sql: string, table: string, row: unknown[]): void {
  const db = new Database(file);
  try {
    db.exec(sql);
    db.prepare(`INSERT OR REPLACE INTO "${table}" VALUES (${row.map(() => "?").join(", ")})`).run(...row);
  } finally {
    db.close();
  }
  chmodSync(file, 0o600);
}

/** Sets `account` under [core] in the active configuration, keeping whatever else the user set there. */
function setCoreAccount(configDir: string, account: string): void {
  const dir = join(configDir, "configurations");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Without an active configuration gcloud creates `default` afresh on first use, over what is written here.
  const activator = join(configDir, "active_config");
  if (!existsSync(activator)) writeFileSync(activator, "default", { mode: 0o600 });
  const file = join(dir, `config_${readFileSync(activator, "utf8").trim() || "default"}`);
  const current = existsSync(file) ? readFileSync(file, "utf8") : "";
  const line = `account = ${account}`;
  const next = /^account\s*=.*$/m.test(current)
    ? current.replace(/^account\s*=.*$/m, line)
    : /^\[core\]\s*$/m.test(current)
      ? current.replace(/^\[core\]\s*$/m, `[core]\n${line}`)
      : `[core]\n${line}\n${current}`;
  writeFileSync(file, next, { mode: 0o600 });
}

/** Application Default Credentials for the principal signed in in `configDir` (GOOGLE_APPLICATION_CREDENTIALS). */
export function adcFileIn(configDir: string): string {
  return join(configDir, "application_default_credentials.json");
}

export function signInGcloud(configDir: string, account: string, accessToken: string, expiresAt: Date): void {
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  // Where `gcloud auth application-default login` leaves it, the same credential: client libraries refresh it at
  // https://oauth2.googleapis.com/token (through runguard) and get the principal's token back.
  writeFileSync(adcFileIn(configDir), credentialFor(accessToken), { mode: 0o600 });
  upsert(
    join(configDir, "credentials.db"),
    'CREATE TABLE IF NOT EXISTS "credentials" (account_id TEXT PRIMARY KEY, value BLOB)',
    "credentials",
    [account, credentialFor(accessToken)],
  );
  upsert(
    join(configDir, "access_tokens.db"),
    'CREATE TABLE IF NOT EXISTS "access_tokens" (account_id TEXT PRIMARY KEY, access_token TEXT, token_expiry TIMESTAMP, rapt_token TEXT, id_token TEXT)',
    "access_tokens",
    [account, accessToken, sqliteTimestamp(expiresAt), null, null],
  );
  setCoreAccount(configDir, account);
}
