// IAP's browser session: after sign-in, a cookie holding a short JWT (HS256, key kept in the data directory)
// names the user and the backend it was issued for. Logins in progress are remembered server-side by nonce,
// with the PKCE verifier, so nothing secret ever travels through the browser.
import { randomBytes } from "node:crypto";
import { SignJWT, jwtVerify } from "jose";
import type { Clock } from "../core/clock.js";

export const SESSION_LIFETIME_SECONDS = 3600;
const LOGIN_LIFETIME_MS = 10 * 60_000;
const MAX_PENDING_LOGINS = 10_000;
const SESSION_ISSUER = "runguard-iap-session";

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
}

export function createIapSessions(key: Uint8Array, clock: Clock): IapSessions {
  const pending = new Map<string, PendingLogin & { expiresAt: number }>();

  function forgetExpired(now: number): void {
    for (const [nonce, login] of pending) if (login.expiresAt <= now) pending.delete(nonce);
  }

  return {
    async issue(email, resource) {
      const iat = Math.floor(clock.now() / 1000);
      return new SignJWT({ email })
        .setProtectedHeader({ alg: "HS256" })
        .setIssuer(SESSION_ISSUER)
        .setAudience(resource)
        .setIssuedAt(iat)
        .setExpirationTime(iat + SESSION_LIFETIME_SECONDS)
        .sign(key);
    },
    async verify(token, resource) {
      try {
        const { payload } = await jwtVerify(token, key, {
          issuer: SESSION_ISSUER,
          audience: resource,
          algorithms: ["HS256"],
          currentDate: new Date(clock.now()),
          requiredClaims: ["exp"],
        });
        return typeof payload["email"] === "string" ? payload["email"] : undefined;
      } catch {
        return undefined;
      }
    },
    beginLogin(login) {
      const now = clock.now();
      if (pending.size >= MAX_PENDING_LOGINS) forgetExpired(now);
      const nonce = randomBytes(16).toString("hex");
      const started = { ...login, nonce };
      pending.set(nonce, { ...started, expiresAt: now + LOGIN_LIFETIME_MS });
      return started;
    },
    finishLogin(nonce) {
      const login = pending.get(nonce);
      pending.delete(nonce);
      if (!login || login.expiresAt <= clock.now()) return undefined;
      const { expiresAt: _expiresAt, ...rest } = login;
      return rest;
    },
  };
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
