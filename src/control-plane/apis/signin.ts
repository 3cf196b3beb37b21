// runguard's sign-in, at the path of Google's authorization endpoint (/o/oauth2/v2/auth): a page where local
// users sign in, then a redirect back to the client's callback with a one-time code that the token endpoint
// (oauth.ts) exchanges for an ID token whose audience is the client.
import { ensureUser } from "../../accounts/users.js";
import { checkUserPassword } from "../../accounts/user-passwords.js";
import type { AuthorizationCodes } from "../../signin/authorization-codes.js";
import { isAllowedRedirect, type ClientDirectory } from "../../signin/clients.js";
import { CARRIED_PARAMS, signInErrorPage, signInPage, signInThrottledPage } from "../../signin/sign-in-page.js";
import type { SignInThrottle } from "../../signin/sign-in-throttle.js";
import { path, reply, type ApiCall, type Route } from "../route.js";

const HTML = { "content-type": "text/html; charset=UTF-8", "cache-control": "no-store" };
const AUTH_PATH = path("/o/oauth2/v2/auth");

function paramsOf(call: ApiCall, fromBody: boolean): URLSearchParams {
  if (!fromBody) return call.query;
  const params = new URLSearchParams();
  for (const name of CARRIED_PARAMS) {
    const value = call.body[name];
    if (typeof value === "string") params.set(name, value);
  }
  return params;
}

/** Google's wording for requests it refuses before showing any page. */
async function requestProblem(clients: ClientDirectory, params: URLSearchParams): Promise<string | undefined> {
  const clientId = params.get("client_id") ?? "";
  const redirectUri = params.get("redirect_uri") ?? "";
  if (!clientId) return "Error 400: invalid_request. Missing required parameter: client_id";
  if ((await clients.callbackHosts(clientId)) === undefined)
    return "Error 401: invalid_client. The OAuth client was not found.";
  if (!(await isAllowedRedirect(clients, clientId, redirectUri)))
    return "Error 400: redirect_uri_mismatch. The redirect URI in the request does not match the ones authorized for the OAuth client.";
  if (params.get("response_type") !== "code")
    return "Error 400: invalid_request. Only response_type=code is supported.";
  const method = params.get("code_challenge_method");
  if (params.has("code_challenge") && method !== null && method !== "S256")
    return "Error 400: invalid_request. Only code_challenge_method=S256 is supported.";
  return undefined;
}

function redirectWithCode(params: URLSearchParams, code: string) {
  const target = new URL(params.get("redirect_uri") ?? "");
  target.searchParams.set("code", code);
  const state = params.get("state");
  if (state !== null) target.searchParams.set("state", state);
  return reply(302, "", { location: target.toString(), "cache-control": "no-store" });
}

/** 429 with Retry-After, before the password is even checked, so a blocked guesser learns nothing. */
function throttled(call: ApiCall, waitMs: number) {
  const seconds = Math.ceil(waitMs / 1000);
  const retryAt = new Date(call.platform.clock.now() + seconds * 1000);
  return reply(429, signInThrottledPage(retryAt), { ...HTML, "retry-after": String(seconds) });
}

export function createSignInRoutes(
  codes: AuthorizationCodes,
  clients: ClientDirectory,
  throttle: SignInThrottle,
): Route[] {
  return [
    {
      api: "oauth2",
      method: "GET",
      path: AUTH_PATH,
      methodName: "google.identity.oauth2.Authorize",
      mutates: false,
      anonymous: true,
      async handle(call) {
        const problem = await requestProblem(clients, call.query);
        if (problem) return reply(400, signInErrorPage(problem), HTML);
        return reply(200, signInPage(call.query), HTML);
      },
    },
    {
      api: "oauth2",
      method: "POST",
      path: AUTH_PATH,
      methodName: "google.identity.oauth2.SignIn",
      mutates: false,
      anonymous: true,
      async handle(call) {
        const params = paramsOf(call, true);
        const problem = await requestProblem(clients, params);
        if (problem) return reply(400, signInErrorPage(problem), HTML);
        const email = typeof call.body["email"] === "string" ? call.body["email"].trim().toLowerCase() : "";
        const password = typeof call.body["password"] === "string" ? call.body["password"] : "";
        const clientAddress = call.clientAddress ?? "unknown";
        const waitMs = throttle.blockedForMs(email, clientAddress);
        if (waitMs > 0) return throttled(call, waitMs);
        if (!email || !(await checkUserPassword(call.platform, email, password))) {
          throttle.recordFailure(email, clientAddress);
          return reply(401, signInPage(params, { error: "Wrong email or password.", email }), HTML);
        }
        throttle.recordSuccess(email);
        await ensureUser(call.platform, email);
        const challenge = params.get("code_challenge");
        const nonce = params.get("nonce");
        const code = codes.issue({
          email,
          clientId: params.get("client_id") ?? "",
          redirectUri: params.get("redirect_uri") ?? "",
          ...(challenge ? { codeChallenge: challenge } : {}),
          ...(nonce ? { nonce } : {}),
        });
        return redirectWithCode(params, code);
      },
    },
  ];
}
