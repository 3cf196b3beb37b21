// The logger interface every layer logs through; app/logger.ts makes the real one (pino, with redaction).
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
