// IAM Credentials: short-lived tokens for a service account, for callers holding
// iam.serviceAccounts.getAccessToken / getOpenIdToken on it (roles/iam.serviceAccountTokenCreator).
import { failedPrecondition, invalidArgument, permissionDenied } from "../core/errors.js";
import type { PolicyEngine } from "../iam/engine.js";
import type { CallContext } from "../iam/call-context.js";
import type { TokenService } from "../tokens/types.js";
import { findServiceAccount, type ServiceAccount, type ServiceAccountsDeps } from "./service-accounts.js";

/** What this module's operations use. */
export interface ImpersonationDeps extends ServiceAccountsDeps {
  readonly tokens: TokenService;
  readonly engine: Pick<PolicyEngine, "decide">;
}

const MAX_LIFETIME_SECONDS = 3600;

const DELEGATE = /^projects\/-\/serviceAccounts\/([^/]{1,320})$/;
/** Bounds the lookups and decisions one request can cause; real chains are one or two long. */
const MAX_DELEGATES = 10;

/**
 * Google's delegation chain: the caller needs the permission on the first delegate, each delegate on the next,
 * and the last on the target (roles/iam.serviceAccountTokenCreator at each step). Without delegates, the caller
 * needs it on the target.
 */
async function authorizeChain(
  deps: ImpersonationDeps,
  ctx: CallContext,
  account: ServiceAccount,
  delegates: unknown,
  permission: string,
): Promise<void> {
  if (delegates === undefined || delegates === null) delegates = [];
  if (!Array.isArray(delegates)) throw invalidArgument("Invalid value at 'delegates': expected a list.");
  if (delegates.length > MAX_DELEGATES)
    throw invalidArgument(`Too many delegates: at most ${MAX_DELEGATES} service accounts may be chained.`);
  const chain: ServiceAccount[] = [];
  for (const delegate of delegates) {
    const email = typeof delegate === "string" ? DELEGATE.exec(delegate)?.[1] : undefined;
    if (!email)
      throw invalidArgument(
        `Invalid form of delegates: ${String(delegate)}. Expected projects/-/serviceAccounts/{ACCOUNT_EMAIL_OR_UNIQUEID}.`,
      );
    const found = await findServiceAccount(deps, "-", email);
    // A delegate that does not exist is denied like one that may not be used (Google's "or it may not exist").
    if (!found || found.disabled) throw permissionDenied(permission, delegate as string, ctx.serviceName);
    chain.push(found);
  }
  chain.push(account);
  const [first, ...rest] = chain;
  if (first) ctx.authorize(permission, first.name);
  let previous = first;
  for (const next of rest) {
    const holder = { kind: "serviceAccount" as const, email: previous?.email ?? "" };
    if (!deps.engine.decide(holder, permission, next.name).allowed)
      throw permissionDenied(permission, next.name, ctx.serviceName);
    previous = next;
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
  await authorizeChain(deps, ctx, account, request.delegates, "iam.serviceAccounts.getAccessToken");
  assertEnabled(account);
  const scopes = request.scope;
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.some((s) => typeof s !== "string")) {
    throw invalidArgument("Scope required.");
  }
  const issued = await deps.tokens.issueAccessToken({
    principal: { kind: "serviceAccount", email: account.email },
    uniqueId: account.uniqueId,
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
  await authorizeChain(deps, ctx, account, request.delegates, "iam.serviceAccounts.getOpenIdToken");
  assertEnabled(account);
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
