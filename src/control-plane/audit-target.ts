// What a call's audit entry names: its project and resource, as the handler learns them. A handler returns the
// target with its result (auditAs), and a failure carries the target known when it happened, so a denied call
// is audited against what had been found; the server writes the entry (server.ts). Nothing is mutated.

export interface AuditTarget {
  projectId?: string;
  resourceName?: string;
  resource?: { type: string; labels: Record<string, string> };
}

const AUDITED = Symbol("audited");

/** A handler's result with its audit target. */
export interface Audited {
  [AUDITED]: AuditTarget;
  result: unknown;
}

/** A handler's failure with the audit target known when it happened. */
export class AuditedFailure extends Error {
  override readonly name = "AuditedFailure";
  constructor(
    readonly failure: unknown,
    readonly target: AuditTarget,
  ) {
    super("audited failure", { cause: failure });
  }
}

function isAudited(value: unknown): value is Audited {
  return typeof value === "object" && value !== null && AUDITED in value;
}

/**
 * Runs `work` for `target`: what it returns or throws carries the target. What `work` itself learns (a nested
 * auditAs) is more precise and takes precedence, field by field.
 */
export async function auditAs(target: AuditTarget, work: () => unknown): Promise<Audited> {
  try {
    const result = await work();
    return isAudited(result)
      ? { [AUDITED]: { ...target, ...result[AUDITED] }, result: result.result }
      : { [AUDITED]: target, result };
  } catch (error) {
    if (error instanceof AuditedFailure) throw new AuditedFailure(error.failure, { ...target, ...error.target });
    throw new AuditedFailure(error, target);
  }
}

/** A handler's outcome, split into what is answered and what is audited. */
export function resultOf(outcome: unknown): { result: unknown; target: AuditTarget } {
  return isAudited(outcome) ? { result: outcome.result, target: outcome[AUDITED] } : { result: outcome, target: {} };
}

/** A handler's failure, split into the error and the audit target known when it happened. */
export function failureOf(thrown: unknown): { failure: unknown; target?: AuditTarget } {
  return thrown instanceof AuditedFailure ? { failure: thrown.failure, target: thrown.target } : { failure: thrown };
}
