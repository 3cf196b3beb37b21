// IAP's browser session: after sign-in, a cookie holding a short session token (tokens/session-token.ts, its key
// kept in the data directory) names the user and the backend it was issued for. Logins in progress are remembered server-side by nonce,
// with the PKCE verifier, so nothing secret ever travels through the browser.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Clock } from "../core/clock.js";
import type { Envelope } from "../secrets/envelope.js";
import { openSealedFile } from "../secrets/sealed-file.js";
import { signSessionToken, verifySessionToken } from "../tokens/session-token.js";

export const SESSION_LIFETIME_SECONDS = 3600;
const LOGIN_LIFETIME_MS = 10 * 60_000;
/** A longer path is not remembered: the browser returns to "/" after signing in (real URLs are far shorter). */
export const MAX_RETURN_PATH_LENGTH = 2048;
/** Bookkeeping per pending login beyond its strings (the Map entry, the object, the expiry). */
const PENDING_LOGIN_OVERHEAD_BYTES = 200;

export interface PendingLogin {
  /** The protected resource the login is for (backend service or Cloud Run service). */
  resource: string;
  /** Path and query the browser asked for, always relative to the load balancer's origin. */
  returnTo: string;
  codeVerifier: string;
  nonce: string;
}

export interface IapSessions {
  issue(email: string, resource: string): Promise<string>;
  /** The signed-in email, or undefined for a missing, forged, expired or other-resource cookie. */
  verify(token: string, resource: string): Promise<string | undefined>;
  beginLogin(login: Omit<PendingLogin, "nonce">): PendingLogin;
  /** A login can be finished once. */
  finishLogin(nonce: string): PendingLogin | undefined;
  /** How many logins are pending and the bytes they are counted as. */
  pendingLogins(): { count: number; bytes: number };
}

/**
 * Every browser request without credentials starts a login, so what is remembered is capped by count and by
 * bytes: past either cap the oldest pending logins are dropped (their browsers just sign in again).
 */
export interface PendingLoginLimits {
  maxCount: number;
  maxBytes: number;
}

export const DEFAULT_PENDING_LOGIN_LIMITS: PendingLoginLimits = { maxCount: 10_000, maxBytes: 16 * 1024 * 1024 };

type Pending = PendingLogin & { expiresAt: number; bytes: number };

const sizeOf = (login: PendingLogin) =>
  PENDING_LOGIN_OVERHEAD_BYTES +
  2 * (login.resource.length + login.returnTo.length + login.codeVerifier.length + login.nonce.length);

export function createIapSessions(
  key: Uint8Array,
  clock: Clock,
  limits: PendingLoginLimits = DEFAULT_PENDING_LOGIN_LIMITS,
): IapSessions {
  // A Map iterates in insertion order, so its first entries are the oldest logins.
  const pending = new Map<string, Pending>();
  let pendingBytes = 0;

  const forget = (nonce: string, login: Pending) => {
    pending.delete(nonce);
    pendingBytes -= login.bytes;
  };
  function makeRoom(now: number, bytes: number): void {
    for (const [nonce, login] of pending) {
      const full = pending.size >= limits.maxCount || pendingBytes + bytes > limits.maxBytes;
      if (!full && login.expiresAt > now) return;
      forget(nonce, login);
    }
  }

  return {
    issue(email, resource) {
      const issuedAtSeconds = Math.floor(clock.now() / 1000);
      return signSessionToken(key, {
        email,
        audience: resource,
        issuedAtSeconds,
        lifetimeSeconds: SESSION_LIFETIME_SECONDS,
      });
    },
    verify(token, resource) {
      return verifySessionToken(key, token, { audience: resource, nowMs: clock.now() });
    },
    beginLogin(login) {
      const now = clock.now();
      const nonce = randomBytes(16).toString("hex");
      const returnTo = login.returnTo.length <= MAX_RETURN_PATH_LENGTH ? login.returnTo : "/";
      const started = { ...login, returnTo, nonce };
      const bytes = sizeOf(started);
      makeRoom(now, bytes);
      pending.set(nonce, { ...started, expiresAt: now + LOGIN_LIFETIME_MS, bytes });
      pendingBytes += bytes;
      return started;
    },
    finishLogin(nonce) {
      const login = pending.get(nonce);
      if (!login) return undefined;
      forget(nonce, login);
      if (login.expiresAt <= clock.now()) return undefined;
      const { expiresAt: _expiresAt, bytes: _bytes, ...rest } = login;
      return rest;
    },
    pendingLogins() {
      return { count: pending.size, bytes: pendingBytes };
    },
  };
}

/** The key of IAP session cookies, kept (sealed) so that sessions survive a restart. */
export async function openIapSessionKey(dataDir: string, envelope: Envelope): Promise<Uint8Array> {
  const key = await openSealedFile(envelope, join(dataDir, "iap-session.key.sealed"), {
    clearFile: join(dataDir, "iap-session.key"),
    create: () => randomBytes(32),
  });
  return new Uint8Array(key);
}

/** Cookie names as IAP uses them: the __Host- prefix needs HTTPS, so the plain-HTTP listener drops it. */
export const sessionCookieName = (resourceId: string, secure: boolean) =>
  `${secure ? "__Host-" : ""}GCP_IAP_AUTH_TOKEN_${resourceId}`;
export const xsrfCookieName = (nonce: string) => `GCP_IAP_XSRF_NONCE_${nonce}`;

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}

/** The Cookie header without IAP's own cookies: the application never sees the session. */
export function withoutIapCookies(header: string | undefined): string | undefined {
  const kept = (header ?? "")
    .split(";")
    .map((part) => part.trim())
    .filter((part) => part.length > 0 && !/^(__Host-)?GCP_IAP_/.test(part));
  return kept.length > 0 ? kept.join("; ") : undefined;
}
