// Verifies the self-signed JWT a service-account key holder sends to the OAuth token endpoint
// (grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer), as gcloud and the Google auth libraries do.
import { decodeProtectedHeader, importSPKI, jwtVerify } from "jose";
import type { Clock } from "../core/clock.js";

export interface AssertionKey {
  publicKeyPem: string;
  serviceAccountEmail: string;
}

export type AssertionResult =
  { ok: true; email: string; scope?: string; targetAudience?: string } | { ok: false; description: string };

const ACCEPTED_AUDIENCES = [
  "https://oauth2.googleapis.com/token",
  "https://www.googleapis.com/oauth2/v4/token",
  "https://accounts.google.com/o/oauth2/token",
];

export async function verifyKeyAssertion(
  assertion: string,
  findKey: (kid: string) => Promise<AssertionKey | undefined>,
  clock: Clock,
  tokenUrl: string,
): Promise<AssertionResult> {
  let kid: string | undefined;
  try {
    const header = decodeProtectedHeader(assertion);
    if (header.alg !== "RS256") return { ok: false, description: "Invalid JWT: unsupported algorithm." };
    kid = header.kid;
  } catch {
    return { ok: false, description: "Invalid JWT: malformed." };
  }
  const key = kid ? await findKey(kid) : undefined;
  if (!key) return { ok: false, description: "Invalid grant: account not found" };
  try {
    const publicKey = await importSPKI(key.publicKeyPem, "RS256");
    const { payload } = await jwtVerify(assertion, publicKey, {
      algorithms: ["RS256"],
      issuer: key.serviceAccountEmail,
      audience: [...ACCEPTED_AUDIENCES, tokenUrl],
      currentDate: new Date(clock.now()),
      clockTolerance: 300,
      maxTokenAge: 3900,
    });
    const scope = typeof payload["scope"] === "string" ? payload["scope"] : undefined;
    const targetAudience = typeof payload["target_audience"] === "string" ? payload["target_audience"] : undefined;
    if (!scope && !targetAudience) return { ok: false, description: "Invalid JWT: neither scope nor target_audience." };
    return {
      ok: true,
      email: key.serviceAccountEmail,
      ...(scope ? { scope } : {}),
      ...(targetAudience ? { targetAudience } : {}),
    };
  } catch {
    return { ok: false, description: "Invalid JWT Signature." };
  }
}
