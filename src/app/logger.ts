// The logger runguard logs through (pino). Authorization headers, tokens and secret payloads are redacted here,
// at the logger, not by each caller.
import { pino, destination } from "pino";
import type { Logger } from "../core/logger.js";

const REDACT = [
  "authorization",
  "*.authorization",
  'headers["x-serverless-authorization"]',
  "token",
  "*.token",
  "accessToken",
  "privateKeyData",
  "payload",
  "*.payload",
];

export function createLogger(options: { level?: string; fd?: number } = {}): Logger {
  return pino(
    { level: options.level ?? "info", redact: { paths: REDACT, censor: "[REDACTED]" } },
    destination(options.fd ?? 2),
  );
}
