// What a LogQuery means, shared so that every backend answers the same query with the same entries.
import type { LogQuery } from "./store.js";

export const DEFAULT_LOG_LIMIT = 1000;

/** The most entries to return, or undefined for no limit (limit: Infinity). */
export function logLimit(query: LogQuery): number | undefined {
  const limit = query.limit ?? DEFAULT_LOG_LIMIT;
  return Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : undefined;
}
