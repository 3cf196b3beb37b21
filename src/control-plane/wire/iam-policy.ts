// google.iam.v1 policy messages, shared by every resource's getIamPolicy, setIamPolicy and testIamPermissions.
// The structure is checked here; what a condition's expression means is checked by iam/conditions.ts.
import { bytes, enumeration, int32, message, repeated, string, wireBody } from "./proto.js";

export const expr = message("google.type.Expr", {
  expression: string().optional(),
  title: string().optional(),
  description: string().optional(),
  location: string().optional(),
});

export const binding = message("google.iam.v1.Binding", {
  role: string().optional(),
  members: repeated(string()).optional(),
  condition: expr.optional(),
});

const auditLogConfig = message("google.iam.v1.AuditLogConfig", {
  logType: enumeration("google.iam.v1.AuditLogConfig.LogType", [
    "LOG_TYPE_UNSPECIFIED",
    "ADMIN_READ",
    "DATA_WRITE",
    "DATA_READ",
  ]).optional(),
  exemptedMembers: repeated(string()).optional(),
});

const auditConfig = message("google.iam.v1.AuditConfig", {
  service: string().optional(),
  auditLogConfigs: repeated(auditLogConfig).optional(),
});

export const policy = message("google.iam.v1.Policy", {
  version: int32().optional(),
  bindings: repeated(binding).optional(),
  auditConfigs: repeated(auditConfig).optional(),
  etag: bytes().optional(),
});

export const setIamPolicyRequest = wireBody(
  message("google.iam.v1.SetIamPolicyRequest", {
    policy: policy.optional(),
    // A google.protobuf.FieldMask is a comma-separated string in JSON.
    updateMask: string().optional(),
  }),
);

export const getIamPolicyRequest = wireBody(
  message("google.iam.v1.GetIamPolicyRequest", {
    options: message("google.iam.v1.GetPolicyOptions", { requestedPolicyVersion: int32().optional() }).optional(),
  }),
);

export const testIamPermissionsRequest = wireBody(
  message("google.iam.v1.TestIamPermissionsRequest", { permissions: repeated(string()).optional() }),
);
