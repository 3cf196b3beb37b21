// Cloud Audit Logs entries (google.cloud.audit.AuditLog inside a LogEntry), written for every mutating
// control-plane call and every denied one. Never put request or response bodies here: they may hold secrets.
import { randomBytes } from "node:crypto";
import type { AuthorizationInfo } from "../iam/call-context.js";
import { GOOGLE_STATUSES, type GoogleStatus } from "../core/errors.js";
import { toRfc3339 } from "../core/clock.js";
import type { Principal } from "../iam/types.js";
import type { LogEntryRecord } from "../store/store.js";

export type AuditLogType = "activity" | "data_access" | "system_event" | "policy";

export interface AuditRecord {
  projectId: string;
  logType: AuditLogType;
  serviceName: string;
  methodName: string;
  resourceName: string;
  principal: Principal;
  authorizationInfo: AuthorizationInfo[];
  /** Absent on success. */
  error?: { status: GoogleStatus; message: string };
  callerIp?: string;
  userAgent?: string;
  /** The monitored resource, e.g. { type: "service_account", labels: {...} }. */
  resource?: { type: string; labels: Record<string, string> };
}

export const rpcCode = (status: GoogleStatus): number => GOOGLE_STATUSES.indexOf(status) + 1;

export function auditLogName(projectId: string, logType: AuditLogType): string {
  return `projects/${projectId}/logs/cloudaudit.googleapis.com%2F${logType}`;
}

export function buildAuditEntry(record: AuditRecord, nowMs: number): LogEntryRecord {
  const timestamp = toRfc3339(nowMs);
  const logName = auditLogName(record.projectId, record.logType);
  const email = record.principal.kind === "anonymous" ? undefined : record.principal.email;
  const protoPayload = {
    "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
    status: record.error ? { code: rpcCode(record.error.status), message: record.error.message } : {},
    authenticationInfo: email ? { principalEmail: email } : {},
    requestMetadata: {
      ...(record.callerIp ? { callerIp: record.callerIp } : {}),
      ...(record.userAgent ? { callerSuppliedUserAgent: record.userAgent } : {}),
    },
    serviceName: record.serviceName,
    methodName: record.methodName,
    authorizationInfo: record.authorizationInfo,
    resourceName: record.resourceName,
  };
  const severity = record.error ? "ERROR" : record.logType === "data_access" ? "INFO" : "NOTICE";
  return {
    timestamp,
    logName,
    entry: {
      protoPayload,
      insertId: randomBytes(6).toString("hex"),
      resource: record.resource ?? {
        type: "audited_resource",
        labels: { service: record.serviceName, method: record.methodName, project_id: record.projectId },
      },
      timestamp,
      severity,
      logName,
      receiveTimestamp: timestamp,
    },
  };
}
