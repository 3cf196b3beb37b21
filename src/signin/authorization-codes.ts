// One-time authorization codes of runguard's sign-in (OAuth 2.0 authorization code flow with PKCE). Codes live
// in memory for a minute: a code that outlives a restart is one the browser will never present again.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../core/clock.js";

export interface CodeGrant {
  email: string;
  clientId: string;
  redirectUri: string;
  codeChallenge?: string;
  nonce?: string;
}

export type Redemption = { ok: true; grant: CodeGrant } | { ok: false; description: string };

export interface AuthorizationCodes {
  issue(grant: CodeGrant): string;
  redeem(code: string, clientId: string, redirectUri: string, codeVerifier: string | undefined): Redemption;
}

const LIFETIME_MS = 60_000;
const MAX_PENDING = 10_000;

/** RFC 7636 S256: BASE64URL(SHA256(verifier)). */
export const pkceChallenge = (verifier: string) => createHash("sha256").update(verifier).digest("base64url");

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function createAuthorizationCodes(clock: Clock): AuthorizationCodes {
  const pending = new Map<string, CodeGrant & { expiresAt: number }>();

  function dropExpired(now: number): void {
    for (const [code, grant] of pending) if (grant.expiresAt <= now) pending.delete(code);
  }

  return {
    issue(grant) {
      const now = clock.now();
      if (pending.size >= MAX_PENDING) dropExpired(now);
      const code = `4/${randomBytes(32).toString("base64url")}`;
      pending.set(code, { ...grant, expiresAt: now + LIFETIME_MS });
      return code;
    },
    redeem(code, clientId, redirectUri, codeVerifier) {
      const grant = pending.get(code);
      pending.delete(code);
      if (!grant || grant.expiresAt <= clock.now()) return { ok: false, description: "Malformed auth code." };
      if (grant.clientId !== clientId) return { ok: false, description: "Unauthorized client." };
      if (grant.redirectUri !== redirectUri) return { ok: false, description: "Bad Request" };
      if (grant.codeChallenge !== undefined) {
        if (!codeVerifier) return { ok: false, description: "Missing code verifier." };
        if (!sameText(pkceChallenge(codeVerifier), grant.codeChallenge))
          return { ok: false, description: "Invalid code verifier." };
      }
      const { expiresAt: _expiresAt, ...rest } = grant;
      return { ok: true, grant: rest };
    },
  };
}
