// IAM Credentials: short-lived tokens for a service account, for callers holding
// iam.serviceAccounts.getAccessToken / getOpenIdToken on it (roles/iam.serviceAccountTokenCreator).
import { failedPrecondition, invalidArgument } from "../core/errors.js";
import type { CallContext } from "../iam/call-context.js";
import type { TokenService } from "../tokens/types.js";
import type { ServiceAccount } from "./service-accounts.js";

/** What this module's operations use. */
export interface ImpersonationDeps {
  readonly tokens: TokenService;
}

const MAX_LIFETIME_SECONDS = 3600;

function rejectDelegates(delegates: unknown): void {
  if (delegates === undefined || delegates === null) return;
  if (!Array.isArray(delegates)) throw invalidArgument("Invalid value at 'delegates': expected a list.");
  if (delegates.length > 0) {
    throw invalidArgument("Delegation chains are not supported by runguard; call with an empty 'delegates' list.");
  }
}

function assertEnabled(account: ServiceAccount): void {
  if (account.disabled) throw failedPrecondition(`Service account ${account.email} is disabled.`);
}

export function parseLifetime(value: unknown): number {
  if (value === undefined || value === null) return MAX_LIFETIME_SECONDS;
  const match = typeof value === "string" ? /^(\d+)(?:\.\d+)?s$/.exec(value) : null;
  const seconds = match ? Number(match[1]) : NaN;
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > MAX_LIFETIME_SECONDS) {
    throw invalidArgument(
      `Invalid form of lifetime: ${String(value)}. The lifetime must be between 1s and ${MAX_LIFETIME_SECONDS}s.`,
    );
  }
  return seconds;
}

export async function generateAccessToken(
  deps: ImpersonationDeps,
  ctx: CallContext,
  account: ServiceAccount,
  request: { scope?: unknown; lifetime?: unknown; delegates?: unknown },
): Promise<{ accessToken: string; expireTime: string }> {
  ctx.authorize("iam.serviceAccounts.getAccessToken", account.name);
  assertEnabled(account);
  rejectDelegates(request.delegates);
  const scopes = request.scope;
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.some((s) => typeof s !== "string")) {
    throw invalidArgument("Scope required.");
  }
  const issued = await deps.tokens.issueAccessToken({
    principal: { kind: "serviceAccount", email: account.email },
    scopes: scopes as string[],
    lifetimeSeconds: parseLifetime(request.lifetime),
  });
  // gcloud rejects an expireTime with fractional seconds.
  const expireTime = new Date(issued.expiresAtMs).toISOString().replace(/\.\d{3}Z$/, "Z");
  return { accessToken: issued.token, expireTime };
}

export async function generateIdToken(
  deps: ImpersonationDeps,
  ctx: CallContext,
  account: ServiceAccount,
  request: { audience?: unknown; includeEmail?: unknown; delegates?: unknown },
): Promise<{ token: string }> {
  ctx.authorize("iam.serviceAccounts.getOpenIdToken", account.name);
  assertEnabled(account);
  rejectDelegates(request.delegates);
  if (typeof request.audience !== "string" || request.audience.length === 0) {
    throw invalidArgument("Invalid value for audience: must be a non-empty string.");
  }
  const token = await deps.tokens.signIdToken({
    principal: { kind: "serviceAccount", email: account.email },
    uniqueId: account.uniqueId,
    audience: request.audience,
    includeEmail: request.includeEmail === true,
  });
  return { token };
}
