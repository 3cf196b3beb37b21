// Calls runguard's own Google APIs as the project owner, over loopback HTTP: a deploy from the API takes the
// path gcloud's takes (route, authentication, the Run Admin handler and its domain checks, the audit entry).
import { ApiError, GOOGLE_STATUSES, type GoogleStatus } from "../core/errors.js";
import { mintAccessToken, type LocalSigner } from "../app/local-credentials.js";

export interface AdminClient {
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
}

const isGoogleStatus = (value: unknown): value is GoogleStatus =>
  typeof value === "string" && (GOOGLE_STATUSES as readonly string[]).includes(value);

export function createAdminClient(signer: LocalSigner, apiUrl: string, ownerEmail: string): AdminClient {
  return {
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      const token = await mintAccessToken(signer, { kind: "user", email: ownerEmail });
      const response = await fetch(`${apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const parsed = (await response.json().catch(() => ({}))) as { error?: { status?: unknown; message?: string } };
      if (!response.ok) {
        // Google's error body, as gcloud would show it; the status keeps its code so callers can switch on it.
        const status = isGoogleStatus(parsed.error?.status) ? parsed.error.status : "INTERNAL";
        throw new ApiError(status, `${method} ${path}: ${parsed.error?.message ?? `HTTP ${response.status}`}`);
      }
      return parsed as T;
    },
  };
}
