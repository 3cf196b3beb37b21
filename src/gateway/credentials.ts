// Which credential Cloud Run checks: X-Serverless-Authorization if present, else Authorization. Several
// authorization headers, or several tokens in one, are a 401; none at all is a 403.

export type CredentialResult =
  | { kind: "none" }
  | { kind: "invalid" }
  | { kind: "bearer"; header: "authorization" | "x-serverless-authorization"; scheme: string; token: string };

/** Counts raw header occurrences: Node keeps only the first Authorization when a client sends several. */
function occurrences(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === name) values.push(rawHeaders[i + 1] as string);
  }
  return values;
}

const BEARER = /^(bearer)[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i;

export function extractCredential(rawHeaders: readonly string[]): CredentialResult {
  const serverless = occurrences(rawHeaders, "x-serverless-authorization");
  const authorization = occurrences(rawHeaders, "authorization");
  const chosen = serverless.length > 0 ? serverless : authorization;
  const header = serverless.length > 0 ? "x-serverless-authorization" : "authorization";
  if (chosen.length === 0) return { kind: "none" };
  if (chosen.length > 1) return { kind: "invalid" };
  const match = BEARER.exec(chosen[0] as string);
  if (!match?.[1] || !match[2]) return { kind: "invalid" };
  return { kind: "bearer", header, scheme: match[1], token: match[2] };
}

/** Cloud Run forwards the checked token with its signature replaced, so the app cannot replay it. */
export function stripSignature(scheme: string, token: string): string {
  const lastDot = token.lastIndexOf(".");
  return `${scheme} ${token.slice(0, lastDot + 1)}SIGNATURE_REMOVED_BY_GOOGLE`;
}
