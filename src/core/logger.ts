// The logger interface (pino underneath). Authorization headers, tokens and secret payloads are redacted here,
// at the logger, not by each caller.
import { pino } from "pino";

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const REDACT = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  'headers["x-serverless-authorization"]',
  "token",
  "*.token",
  "accessToken",
  "privateKeyData",
  "payload",
  "*.payload",
  "data",
];

export function createLogger(options: { level?: string; destination?: number } = {}): Logger {
  return pino(
    { level: options.level ?? "info", redact: { paths: REDACT, censor: "[REDACTED]" } },
    pino.destination(options.destination ?? 2),
  );
}
