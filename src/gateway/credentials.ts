// Which credential Cloud Run checks: X-Serverless-Authorization if present, else Authorization. Several
// authorization headers, or several tokens in one, are a 401; none at all is a 403.

export type CredentialResult =
  | { kind: "none" }
  | { kind: "invalid" }
  | { kind: "bearer"; header: "authorization" | "x-serverless-authorization"; scheme: string; token: string };

const BEARER = /^(bearer)[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i;
const AUTHORIZATION = "authorization";
const SERVERLESS = "x-serverless-authorization";

/**
 * Counts raw header occurrences: Node keeps only the first Authorization when a client sends several. One pass,
 * and only names of the right length are lower-cased (header names are ASCII tokens, so case never changes
 * their length).
 */
export function extractCredential(rawHeaders: readonly string[]): CredentialResult {
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
  if (count === 0) return { kind: "none" };
  if (count > 1) return { kind: "invalid" };
  const match = BEARER.exec((useServerless ? serverless : authorization) as string);
  if (!match?.[1] || !match[2]) return { kind: "invalid" };
  return { kind: "bearer", header: useServerless ? SERVERLESS : AUTHORIZATION, scheme: match[1], token: match[2] };
}

/** Cloud Run forwards the checked token with its signature replaced, so the app cannot replay it. */
export function stripSignature(scheme: string, token: string): string {
  const lastDot = token.lastIndexOf(".");
  return `${scheme} ${token.slice(0, lastDot + 1)}SIGNATURE_REMOVED_BY_GOOGLE`;
}
