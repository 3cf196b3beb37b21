// What a domain operation knows about the call it serves: who is calling, and a way to ask IAM.
// Every permission check is recorded so the audit entry can list authorizationInfo exactly as Cloud Audit Logs do.
import { permissionDenied } from "../core/errors.js";
import type { Decision, Principal } from "./types.js";

export interface AuthorizationInfo {
  resource: string;
  permission: string;
  granted: boolean;
}

export type Decide = (principal: Principal, permission: string, resource: string) => Decision;

export interface CallContext {
  readonly principal: Principal;
  /** The API's service name, e.g. iam.googleapis.com, used as the ErrorInfo domain of denials. */
  readonly serviceName: string;
  readonly authorizationInfo: AuthorizationInfo[];
  /** Throws PERMISSION_DENIED unless the caller holds the permission. `shownAs` is the resource named in the error. */
  authorize(permission: string, resource: string, shownAs?: string): void;
  /** Like authorize but returns the answer instead of throwing. */
  holds(permission: string, resource: string): boolean;
}

export function createCallContext(options: { principal: Principal; serviceName: string; decide: Decide }): CallContext {
  const { principal, serviceName, decide } = options;
  const authorizationInfo: AuthorizationInfo[] = [];
  const holds = (permission: string, resource: string): boolean => {
    const granted = decide(principal, permission, resource).allowed;
    authorizationInfo.push({ resource, permission, granted });
    return granted;
  };
  return {
    principal,
    serviceName,
    authorizationInfo,
    holds,
    authorize(permission, resource, shownAs) {
      if (!holds(permission, resource)) throw permissionDenied(permission, shownAs ?? resource, serviceName);
    },
  };
}
