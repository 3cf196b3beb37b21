// The last line of defence: an error no request handler caught is logged and runguard keeps serving, because
// one bad request must never take the control plane, the front end and every instance's sidecars down with it.
// Installed once, where the runguard process starts (`runguard up`).
import type { Logger } from "../core/logger.js";

/** Token-, key- and password-shaped text an error message might carry (a header value, a request body). */
const SECRET_SHAPES: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\beyJ[\w-]*\.[\w-]*\.?[\w-]*/g, // JWTs (ID tokens, assertions)
  /\bya29\.[\w.-]+/g, // access tokens
  /\b(?:bearer|basic)\s+\S+/gi,
];
/** `"password": "…"`, `token=…`: the name stays, the value goes. */
const SECRET_FIELD = /("?(?:password|secret|token|key|payload|data)"?\s*[:=]\s*)(?:"[^"]*"|\S+)/gi;

export function withoutSecrets(text: string): string {
  let out = text.replace(SECRET_FIELD, "$1[REDACTED]");
  for (const shape of SECRET_SHAPES) out = out.replace(shape, "[REDACTED]");
  return out.length > 2000 ? `${out.slice(0, 2000)}…` : out;
}

function describe(error: unknown): { name: string; code?: string; message: string; stack?: string } {
  if (!(error instanceof Error)) return { name: typeof error, message: withoutSecrets(String(error)) };
  const code = (error as NodeJS.ErrnoException).code;
  return {
    name: error.name,
    ...(typeof code === "string" ? { code } : {}),
    message: withoutSecrets(error.message),
    // Only the frames: the stack's first line repeats the message.
    ...(error.stack
      ? {
          stack: error.stack
            .split("\n")
            .filter((line) => /^\s+at /.test(line))
            .join("\n"),
        }
      : {}),
  };
}

let installed: ((error: unknown) => void) | undefined;

/** Installs the handlers once per process; returns whether they are in place. */
export function installProcessGuard(logger: Logger): boolean {
  if (installed) return true;
  installed = (error: unknown) => {
    try {
      logger.error({ error: describe(error) }, "runguard: an error escaped its handler; still serving");
    } catch {
      // Logging must not become the next uncaught error.
    }
  };
  process.on("uncaughtException", installed);
  process.on("unhandledRejection", installed);
  return true;
}
