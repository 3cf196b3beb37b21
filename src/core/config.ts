// One schema for runguard's configuration: parsed once at start, then frozen. Defaults are secure and documented.
import { z } from "zod";
import { StartupError } from "./errors.js";

export const configSchema = z.object({
  /** Where the embedded store, keys and logs live. */
  dataDir: z.string().default(".runguard"),
  /** The project created on first start. */
  projectId: z
    .string()
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "project ids are 6-30 lowercase letters, digits or hyphens")
    .default("my-gcp-project"),
  /** The local developer, who owns the default project so that nothing is in the way of a first run. */
  ownerEmail: z.string().email().default("developer@example.com"),
  /** The default region for services. */
  region: z.string().default("us-central1"),
  /** Loopback address every listener binds to. */
  host: z.string().default("127.0.0.1"),
  /** Control-plane API port (also gcloud's HTTP proxy). 0 picks a free port. */
  apiPort: z.number().int().min(0).max(65535).default(8089),
  /** The front end in front of every service (service URLs are routed here by Host). 0 picks a free port. */
  frontEndPort: z.number().int().min(0).max(65535).default(8090),
  /** The external load balancer's listener (plain HTTP on loopback; domains mapped with `runguard lb map`). */
  lbPort: z.number().int().min(0).max(65535).default(8091),
  /** The load balancer's HTTPS listener, with certificates from runguard's local CA for every mapped domain. */
  lbHttpsPort: z.number().int().min(0).max(65535).default(8443),
  /** A team's OpenID Connect provider for IAP's browser sign-in; without it, runguard's own sign-in page
   * (local users) is used. The client secret comes from RUNGUARD_OIDC_CLIENT_SECRET, never from a flag. */
  oidc: z
    .object({ issuer: z.string().url(), clientId: z.string().min(1), clientSecret: z.string().default("") })
    .optional(),
  /** Idle time after which an instance is stopped (Cloud Run: about 15 minutes). */
  idleTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(15 * 60_000),
  /** Instance isolation: "auto" uses a network namespace per instance where the machine allows it. */
  isolation: z.enum(["auto", "netns", "process"]).default("auto"),
  /** A file holding the key-encryption key (base64, 32 bytes), kept outside the data directory; see
   * secrets/key-encryption-key.ts (RUNGUARD_KEK_FILE and RUNGUARD_KEK are read there). */
  kekFile: z.string().min(1).optional(),
  /** Request logs, and instances' logs (stdout, stderr), older than this are deleted (Cloud Logging's default
   * retention for _Default is 30 days). */
  requestLogMaxAgeDays: z.number().positive().default(30),
  /** Request logs beyond this many stored bytes are deleted, oldest first; instances' logs too, counted apart. */
  requestLogMaxBytes: z.number().int().positive().default(1_000_000_000),
  /** How often the log writer enforces the two limits above. */
  requestLogRetentionCheckMs: z.number().int().positive().default(60_000),
  /** IAP logins in progress (one per browser request without credentials) kept at most, by count and bytes. */
  pendingSignInMaxCount: z.number().int().positive().default(10_000),
  pendingSignInMaxBytes: z
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024),
  /** Largest accepted control-plane request body. */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
});

export type Config = Readonly<z.infer<typeof configSchema>>;

export function parseConfig(input: unknown): Config {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success)
    throw new StartupError(
      `Invalid configuration: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`,
    );
  return Object.freeze(parsed.data);
}
