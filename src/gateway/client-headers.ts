// The one list of request headers a client may not send: what Google's infrastructure sets itself. Every place
// that reads or forwards a request's headers asks here.

/** Set only by IAP (and runguard itself): a client's copies are dropped before the instance sees the request. */
const INFRASTRUCTURE_ONLY = new Set([
  "x-goog-iap-jwt-assertion",
  "x-goog-authenticated-user-email",
  "x-goog-authenticated-user-id",
  "x-runguard-source",
]);

/**
 * A client's own credential on run.app URLs, but behind the load balancer or IAP the header IAP calls the
 * service with: there a client's copy is neither checked nor forwarded.
 */
export const SERVERLESS_AUTHORIZATION = "x-serverless-authorization";

/** Whether a header (lower-case name) the client sent must be ignored: never checked, never forwarded. */
export function isClientForbidden(name: string, behindProxy: boolean): boolean {
  return INFRASTRUCTURE_ONLY.has(name) || (behindProxy && name === SERVERLESS_AUTHORIZATION);
}

/** The client's raw headers (name, value, ...) without those it may not send: a new list, the request untouched. */
export function clientRawHeaders(rawHeaders: readonly string[], behindProxy: boolean): string[] {
  const kept: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (!isClientForbidden(name.toLowerCase(), behindProxy)) kept.push(name, rawHeaders[i + 1] as string);
  }
  return kept;
}
