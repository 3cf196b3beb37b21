// Which credential Cloud Run checks: X-Serverless-Authorization if present, else Authorization. Several
// authorization headers, or several tokens in one, are a 401; none at all is a 403.

/** Why a credential header could not be read, for the refusal's reason. */
export type CredentialProblem = "several-headers" | "not-bearer";

export type CredentialResult =
  | { kind: "none" }
  | { kind: "invalid"; problem: CredentialProblem }
  | {
      kind: "bearer";
      header: Header;
      scheme: string;
      token: string;
      /** The header value the instance receives, signature stripped. */
      forwardedValue: string;
    };

const NONE = Object.freeze({ kind: "none" } as const);
const SEVERAL = Object.freeze({ kind: "invalid", problem: "several-headers" } as const);
const NOT_BEARER = Object.freeze({ kind: "invalid", problem: "not-bearer" } as const);

const BEARER = /^(bearer)[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i;
const AUTHORIZATION = "authorization";
const SERVERLESS = "x-serverless-authorization";

type Header = "authorization" | "x-serverless-authorization";
type Found = typeof NONE | typeof SEVERAL | { kind: "one"; header: Header; value: string };

/**
 * Counts raw header occurrences: Node keeps only the first Authorization when a client sends several. One pass,
 * and only names of the right length are lower-cased (header names are ASCII tokens, so case never changes
 * their length).
 */
function findCredentialHeader(rawHeaders: readonly string[]): Found {
  let serverless: string | undefined;
  let serverlessCount = 0;
  let authorization: string | undefined;
  let authorizationCount = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === AUTHORIZATION.length) {
      if (name === AUTHORIZATION || name.toLowerCase() === AUTHORIZATION) {
        if (authorizationCount++ === 0) authorization = rawHeaders[i + 1] as string;
      }
    } else if (name.length === SERVERLESS.length) {
      if (name === SERVERLESS || name.toLowerCase() === SERVERLESS) {
        if (serverlessCount++ === 0) serverless = rawHeaders[i + 1] as string;
      }
    }
  }
  const useServerless = serverlessCount > 0;
  const count = useServerless ? serverlessCount : authorizationCount;
  if (count === 0) return NONE;
  if (count > 1) return SEVERAL;
  return useServerless
    ? { kind: "one", header: SERVERLESS, value: serverless as string }
    : { kind: "one", header: AUTHORIZATION, value: authorization as string };
}

function parseBearer(header: Header, value: string): CredentialResult {
  const match = BEARER.exec(value);
  const [, scheme, token] = match ?? [];
  if (!scheme || !token) return NOT_BEARER;
  return { kind: "bearer", header, scheme, token, forwardedValue: stripSignature(scheme, token) };
}

export function extractCredential(rawHeaders: readonly string[]): CredentialResult {
  const found = findCredentialHeader(rawHeaders);
  return found.kind === "one" ? parseBearer(found.header, found.value) : found;
}

export type CredentialReader = (rawHeaders: readonly string[], connection: object) => CredentialResult;

/**
 * extractCredential with a memory per connection: a client sends the same token on every request of a
 * keep-alive connection, so the last header value seen on it and what it parsed to are kept. Reusing the very
 * same token string also keeps its hash, which V8 computes once per string, for the verification cache's
 * lookup: parsing and hashing a ~900-character token were the costliest part of the invoker check.
 */
export function createCredentialReader(): CredentialReader {
  const lastSeen = new WeakMap<object, { header: Header; value: string; result: CredentialResult }>();
  return (rawHeaders, connection) => {
    const found = findCredentialHeader(rawHeaders);
    if (found.kind !== "one") return found;
    const last = lastSeen.get(connection);
    if (last && last.header === found.header && last.value === found.value) return last.result;
    const result = parseBearer(found.header, found.value);
    lastSeen.set(connection, { header: found.header, value: found.value, result });
    return result;
  };
}

/** Cloud Run forwards the checked token with its signature replaced, so the app cannot replay it. */
export function stripSignature(scheme: string, token: string): string {
  const lastDot = token.lastIndexOf(".");
  return `${scheme} ${token.slice(0, lastDot + 1)}SIGNATURE_REMOVED_BY_GOOGLE`;
}
