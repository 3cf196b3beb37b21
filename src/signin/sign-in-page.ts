// runguard's sign-in page: the local stand-in for Google's account chooser that IAP redirects browsers to.
import { escapeHtml } from "../core/html.js";

/** The OAuth parameters the page carries through its form, unchanged. */
export const CARRIED_PARAMS = [
  "client_id",
  "redirect_uri",
  "response_type",
  "scope",
  "state",
  "nonce",
  "code_challenge",
  "code_challenge_method",
] as const;

export function signInPage(params: URLSearchParams, options: { error?: string; email?: string } = {}): string {
  const hidden = CARRIED_PARAMS.filter((name) => params.has(name))
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params.get(name) ?? "")}">`)
    .join("\n    ");
  const error = options.error ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>` : "";
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - runguard</title>
<style>body{font-family:sans-serif;max-width:26rem;margin:4rem auto}label{display:block;margin:.8rem 0}
input[type=email],input[type=password]{width:100%;padding:.4rem}.error{color:#b00020}</style></head>
<body>
  <h1>Sign in</h1>
  <p>to continue to the application protected by Identity-Aware Proxy</p>
  ${error}
  <form method="post" action="/o/oauth2/v2/auth">
    ${hidden}
    <label>Email <input type="email" name="email" autocomplete="username" required value="${escapeHtml(options.email ?? "")}"></label>
    <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
    <button type="submit" id="sign-in">Sign in</button>
  </form>
  <p><small>runguard local users (<code>runguard users add EMAIL</code>).</small></p>
</body></html>
`;
}

export function signInErrorPage(message: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Error 400 (Bad Request)</title></head>
<body><h1>400. That’s an error.</h1><p>${escapeHtml(message)}</p></body></html>
`;
}

/** The page a client gets after too many failed sign-ins: when it may try again. */
export function signInThrottledPage(retryAt: Date): string {
  const when = retryAt.toISOString().replace(/\.\d+Z$/, "Z");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Error 429 (Too Many Requests)</title></head>
<body><h1>429. Too many failed sign-in attempts.</h1>
<p>Sign-in is paused for this account or this address. Try again after <time datetime="${when}">${when}</time>.</p></body></html>
`;
}
