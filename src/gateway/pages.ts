// The bodies Google's front end answers with, byte for byte where known (fidelity reference §1.2), and the
// request-log texts Cloud Run writes for rejected requests.

import { escapeHtml } from "../core/html.js";

export function forbiddenPage(pathWithQuery: string): string {
  return `<html><head>
<meta http-equiv="content-type" content="text/html;charset=utf-8">
<title>403 Forbidden</title>
</head>
<body text=#000000 bgcolor=#ffffff>
<h1>Error: Forbidden</h1>
<h2>Your client does not have permission to get URL <code>${escapeHtml(pathWithQuery)}</code> from this server.</h2>
<h2></h2>
</body></html>
`;
}

export function unauthorizedPage(pathWithQuery: string): string {
  return `<html><head>
<meta http-equiv="content-type" content="text/html;charset=utf-8">
<title>401 Unauthorized</title>
</head>
<body text=#000000 bgcolor=#ffffff>
<h1>Error: Unauthorized</h1>
<h2>Your client does not have permission to the requested URL <code>${escapeHtml(pathWithQuery)}</code>.</h2>
<h2></h2>
</body></html>
`;
}

export function notFoundPage(pathWithQuery: string): string {
  return `<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">
  <title>Error 404 (Not Found)!!1</title>
  <p><b>404.</b> <ins>That’s an error.</ins>
  <p>The requested URL <code>${escapeHtml(pathWithQuery)}</code> was not found on this server.  <ins>That’s all we know.</ins>
`;
}

export function serverErrorPage(): string {
  return `<html><head>
<meta http-equiv="content-type" content="text/html;charset=utf-8">
<title>500 Server Error</title>
</head>
<body text=#000000 bgcolor=#ffffff>
<h1>Error: Server Error</h1>
<h2>The server encountered an error and could not complete your request.<p>Please try again in 30 seconds.</h2>
<h2></h2>
</body></html>
`;
}

export function tooManyRequestsPage(): string {
  return `<html><head>
<meta http-equiv="content-type" content="text/html;charset=utf-8">
<title>429 Too Many Requests</title>
</head>
<body text=#000000 bgcolor=#ffffff>
<h1>Error: Too Many Requests</h1>
<h2>Rejected by the server because no available instance.</h2>
<h2></h2>
</body></html>
`;
}

export const LOG_TEXT = {
  notAuthenticated:
    "The request was not authenticated. Either allow unauthenticated invocations or set the proper Authorization header. Read more at https://cloud.google.com/run/docs/securing/authenticating Additional troubleshooting documentation can be found at: https://cloud.google.com/run/docs/troubleshooting#unauthorized-client",
  notAuthorized:
    "The request was not authorized to invoke this service. Read more at https://cloud.google.com/run/docs/securing/authenticating Additional troubleshooting documentation can be found at: https://cloud.google.com/run/docs/troubleshooting#401",
  missingInvoke:
    "The request was not authorized to invoke this service. The caller does not have the run.routes.invoke permission. Read more at https://cloud.google.com/run/docs/securing/authenticating Additional troubleshooting documentation can be found at: https://cloud.google.com/run/docs/troubleshooting#403",
  instanceFailed: "The request failed because the instance could not start successfully.",
  noInstance: "The request was aborted because there was no available instance.",
} as const;

/** Google's front end on a request it cannot parse. */
export function badRequestPage(): string {
  return `<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">
  <title>Error 400 (Bad Request)!!1</title>
  <p><b>400.</b> <ins>That’s an error.</ins>
  <p>Your client has issued a malformed or illegal request.  <ins>That’s all we know.</ins>
`;
}

/** A request body over Cloud Run's 32 MiB (HTTP/1) limit. */
export function payloadTooLargePage(): string {
  return `<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">
  <title>Error 413 (Request Entity Too Large)!!1</title>
  <p><b>413.</b> <ins>That’s an error.</ins>
  <p>Your client issued a request that was too large.  <ins>That’s all we know.</ins>
`;
}

/** What the front end's listeners answer to a request Node's parser refused (core/http-input.ts). */
export const malformedRequestAnswer = () => ({ contentType: "text/html; charset=UTF-8", body: badRequestPage() });

/** The mark on every answer IAP gives itself (and on the load balancer's 404 for an unmapped host). */
export const IAP_GENERATED = { "x-goog-iap-generated-response": "true" } as const;
