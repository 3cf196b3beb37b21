// The logger interface (pino underneath). Authorization headers, tokens and secret payloads are redacted here,
// at the logger, not by each caller.
import { pino, destination } from "pino";

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

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
