// Google's IAM policy model (google.iam.v1.Policy), exactly as the REST APIs carry it.

export interface Expr {
  expression: string;
  title?: string;
  description?: string;
  location?: string;
}

export interface Binding {
  role: string;
  members: string[];
  condition?: Expr;
}

export interface AuditLogConfig {
  logType: "LOG_TYPE_UNSPECIFIED" | "ADMIN_READ" | "DATA_WRITE" | "DATA_READ";
  exemptedMembers?: string[];
}

export interface AuditConfig {
  service: string;
  auditLogConfigs: AuditLogConfig[];
}

export interface Policy {
  version?: number;
  bindings?: Binding[];
  auditConfigs?: AuditConfig[];
  /** base64 bytes; absent on a policy that was never set. */
  etag?: string;
}

/** Who is calling: an authenticated user or service account, or nobody. */
export type Principal =
  { kind: "user"; email: string } | { kind: "serviceAccount"; email: string } | { kind: "anonymous" };

export const ANONYMOUS: Principal = { kind: "anonymous" };

export function principalEmail(principal: Principal): string | undefined {
  return principal.kind === "anonymous" ? undefined : principal.email;
}

/** A group and its direct members (`user:`, `serviceAccount:`, `group:` strings). */
export interface Group {
  email: string;
  displayName?: string;
  members: string[];
}

/** Why a permission was granted: the binding that matched and how the principal matched its member. */
export interface Grant {
  /** The resource whose policy held the binding (the resource itself or an ancestor). */
  resource: string;
  role: string;
  /** The member string of the binding that matched. */
  member: string;
  /** How the principal matched: "direct", "group:a@x -> group:b@x", "domain", "allUsers", "allAuthenticatedUsers". */
  via: string;
  condition?: Expr;
}

export interface Decision {
  allowed: boolean;
  principal: string;
  permission: string;
  resource: string;
  /** Set when allowed. */
  grant?: Grant;
}
