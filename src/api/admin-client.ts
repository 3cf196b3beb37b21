// Calls runguard's own Google APIs as the project owner, over loopback HTTP: a deploy from the API takes the
// path gcloud's takes (route, authentication, the Run Admin handler and its domain checks, the audit entry).
import { ApiError, GOOGLE_STATUSES, type GoogleStatus } from "../core/errors.js";
import { callLocalApi, type LocalSigner } from "../app/local-credentials.js";

export interface AdminClient {
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
}

const isGoogleStatus = (value: unknown): value is GoogleStatus =>
  typeof value === "string" && (GOOGLE_STATUSES as readonly string[]).includes(value);

export function createAdminClient(signer: LocalSigner, apiUrl: string, ownerEmail: string): AdminClient {
  return {
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      const answer = await callLocalApi(signer, apiUrl, { kind: "user", email: ownerEmail }, { method, path, body });
      const error = answer.body.error;
      if (!answer.ok) {
        // Google's error body, as gcloud would show it; the status keeps its code so callers can switch on it.
        const status = isGoogleStatus(error?.status) ? error.status : "INTERNAL";
        throw new ApiError(status, `${method} ${path}: ${error?.message ?? `HTTP ${answer.status}`}`);
      }
      return answer.body as T;
    },
  };
}
