// Parsing what a client sent without ever throwing: every listener reads request targets, hosts and escapes
// through these, so malformed input becomes `undefined`, which each listener answers with its own 4xx instead
// of an exception escaping a request handler.
/** The request target resolved against `base`; undefined when it is not a URL (`//[`, `http://[`). */
export function parseRequestUrl(target: string, base?: string): URL | undefined {
  try {
    return new URL(target, base);
  } catch {
    return undefined;
  }
}

/** decodeURIComponent, or undefined for a malformed `%` escape. */
export function decodeComponent(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
