// What IAP itself answers (with gateway/pages.ts's IAP_GENERATED mark on every one of them).
import { escapeHtml } from "../core/html.js";

export function forbiddenPage(email?: string): string {
  const who = email ? ` (signed in as ${escapeHtml(email)})` : "";
  return `<!DOCTYPE html>
<html lang=en><meta charset=utf-8><title>Error 403 (Forbidden)!!1</title>
<p><b>403.</b> <ins>That’s an error.</ins>
<p>You don't have access${who}. Ask the administrator of this application for access (the IAP-secured Web App User role).
<p><a href="/_gcp_iap/clear_login_cookie">Sign in with a different account</a>
`;
}

export function signInFailedPage(message: string): string {
  return `<!DOCTYPE html>
<html lang=en><meta charset=utf-8><title>Error 401 (Unauthorized)</title>
<p><b>401.</b> <ins>That’s an error.</ins>
<p>${escapeHtml(message)}
`;
}

export function signedOutPage(): string {
  return `<!DOCTYPE html>
<html lang=en><meta charset=utf-8><title>Signed out</title>
<p>You have been signed out of the application.
`;
}
