// Request headers IAP rewrites before the service sees the request: client-sent identity headers are dropped
// (only IAP may vouch for a user), the session cookie never leaves IAP.
import type { IncomingMessage } from "node:http";
import { withoutIapCookies } from "./iap-session.js";

const CLIENT_IDENTITY_HEADERS = [
  "x-goog-iap-jwt-assertion",
  "x-goog-authenticated-user-email",
  "x-goog-authenticated-user-id",
  "x-serverless-authorization",
];

/** Replaces or adds a header in both views Node keeps of a request (the front end reads rawHeaders). */
export function setRequestHeader(req: IncomingMessage, name: string, value: string | undefined): void {
  const raw: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if ((req.rawHeaders[i] as string).toLowerCase() !== name)
      raw.push(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  }
  if (value !== undefined) raw.push(name, value);
  req.rawHeaders.splice(0, req.rawHeaders.length, ...raw);
  if (value === undefined) delete req.headers[name];
  else req.headers[name] = value;
}

export function dropClientIdentityHeaders(req: IncomingMessage): void {
  for (const name of CLIENT_IDENTITY_HEADERS) setRequestHeader(req, name, undefined);
}

/** After IAP's check: the service agent's token for Cloud Run's IAM check, and no IAP cookies. */
export function prepareForService(req: IncomingMessage, serverlessAuthorization: string): void {
  setRequestHeader(req, "cookie", withoutIapCookies(req.headers.cookie));
  setRequestHeader(req, "x-serverless-authorization", serverlessAuthorization);
}
