// IAP's browser flow on the load balancer: a request without credentials is redirected to sign in (302, with
// an XSRF nonce cookie binding the login to this browser); the callback exchanges the code, sets the session
// cookie and returns to the page first asked for; /_gcp_iap/clear_login_cookie signs out.
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { randomBytes } from "node:crypto";
import { pkceChallenge } from "../signin/authorization-codes.js";
import { IAP_CALLBACK_PATH } from "../signin/clients.js";
import type { IdentityProvider } from "./identity-provider.js";
import {
  SESSION_LIFETIME_SECONDS,
  parseCookies,
  sessionCookieName,
  xsrfCookieName,
  type IapSessions,
} from "./iap-session.js";
import { signInFailedPage, signedOutPage } from "./pages.js";
import { IAP_GENERATED } from "../gateway/pages.js";
import type { IapAnswer } from "../gateway/iap-stage.js";

export const SIGN_OUT_PATH = "/_gcp_iap/clear_login_cookie";

/** What IAP protects: a backend service (load balancer) or a Cloud Run service (direct IAP). */
export interface ProtectedResource {
  resource: string;
  /** Numeric id, used in cookie names. */
  id: string;
  /** IAP's OAuth client for this resource. */
  clientId: string;
}

const isSecure = (req: IncomingMessage) => (req.socket as Partial<TLSSocket>).encrypted === true;
const originOf = (req: IncomingMessage) => `${isSecure(req) ? "https" : "http"}://${req.headers.host ?? ""}`;

function cookie(name: string, value: string, req: IncomingMessage, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${isSecure(req) ? "; Secure" : ""}`;
}

/** Only a path on this origin can be returned to; anything else goes to "/". */
function safeReturnPath(url: string | undefined): string {
  return url && url.startsWith("/") && !url.startsWith("//") && !url.startsWith("/\\") ? url : "/";
}

function html(status: number, body: string, headers: Record<string, string | string[]> = {}): IapAnswer {
  return {
    status,
    headers: { "content-type": "text/html; charset=UTF-8", "cache-control": "no-store", ...IAP_GENERATED, ...headers },
    body,
  };
}

/** Every step answers the browser itself; the answers are data, written by the front end. */
export interface SignInFlow {
  /** The signed-in email from this browser's session cookie for the resource, if any. */
  sessionEmail(req: IncomingMessage, target: ProtectedResource): Promise<string | undefined>;
  start(req: IncomingMessage, target: ProtectedResource): Promise<IapAnswer>;
  callback(req: IncomingMessage, target: ProtectedResource): Promise<IapAnswer>;
  signOut(req: IncomingMessage, target: ProtectedResource): IapAnswer;
  isOwnPath(url: URL): boolean;
  /** Answers IAP's own paths: the sign-in callback and sign-out. */
  serveOwnPath(req: IncomingMessage, url: URL, target: ProtectedResource): Promise<IapAnswer>;
}

export function createSignInFlow(sessions: IapSessions, provider: IdentityProvider): SignInFlow {
  const callbackUri = (req: IncomingMessage) => `${originOf(req)}${IAP_CALLBACK_PATH}`;

  const flow: SignInFlow = {
    async serveOwnPath(req, url, target) {
      if (url.pathname === IAP_CALLBACK_PATH) return flow.callback(req, target);
      return flow.signOut(req, target);
    },

    isOwnPath(url) {
      return (
        url.pathname === IAP_CALLBACK_PATH ||
        url.pathname === SIGN_OUT_PATH ||
        url.searchParams.get("gcp-iap-mode") === "CLEAR_LOGIN_COOKIE"
      );
    },

    async sessionEmail(req, target) {
      const token = parseCookies(req.headers.cookie).get(sessionCookieName(target.id, isSecure(req)));
      return token ? sessions.verify(token, target.resource) : undefined;
    },

    async start(req, target) {
      const codeVerifier = randomBytes(32).toString("base64url");
      const login = sessions.beginLogin({
        resource: target.resource,
        returnTo: safeReturnPath(req.url),
        codeVerifier,
      });
      const location = await provider.authorizationUrl({
        iapClientId: target.clientId,
        redirectUri: callbackUri(req),
        state: login.nonce,
        codeChallenge: pkceChallenge(codeVerifier),
        nonce: login.nonce,
      });
      return {
        status: 302,
        headers: {
          location,
          "set-cookie": cookie(xsrfCookieName(login.nonce), "1", req, 600),
          "content-type": "text/html; charset=UTF-8",
          "cache-control": "no-store",
          ...IAP_GENERATED,
        },
        body: "Invalid IAP credentials: empty token",
      };
    },

    async callback(req, target) {
      const query = new URL(req.url ?? "/", "http://x").searchParams;
      const nonce = query.get("state") ?? "";
      const cookies = parseCookies(req.headers.cookie);
      if (!nonce || cookies.get(xsrfCookieName(nonce)) !== "1")
        return html(401, signInFailedPage("The sign-in did not start in this browser. Open the application again."));
      const login = sessions.finishLogin(nonce);
      const clearXsrf = cookie(xsrfCookieName(nonce), "", req, 0);
      if (!login || login.resource !== target.resource)
        return html(401, signInFailedPage("This sign-in has expired. Open the application again."), {
          "set-cookie": clearXsrf,
        });
      const code = query.get("code");
      if (!code)
        return html(401, signInFailedPage(`Sign-in was not completed (${query.get("error") ?? "no code"}).`), {
          "set-cookie": clearXsrf,
        });
      const result = await provider.exchange({
        code,
        iapClientId: target.clientId,
        redirectUri: callbackUri(req),
        codeVerifier: login.codeVerifier,
        nonce: login.nonce,
      });
      if (!result.ok)
        return html(401, signInFailedPage(`Sign-in failed: ${result.reason}.`), { "set-cookie": clearXsrf });
      const session = await sessions.issue(result.email, target.resource);
      return {
        status: 302,
        headers: {
          location: login.returnTo,
          "set-cookie": [
            clearXsrf,
            cookie(sessionCookieName(target.id, isSecure(req)), session, req, SESSION_LIFETIME_SECONDS),
          ],
          "cache-control": "no-store",
          ...IAP_GENERATED,
        },
      };
    },

    signOut(req, target) {
      return html(200, signedOutPage(), {
        "set-cookie": cookie(sessionCookieName(target.id, isSecure(req)), "", req, 0),
      });
    },
  };
  return flow;
}
