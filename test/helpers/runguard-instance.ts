// Starts a real runguard (real store, real sockets) in a throwaway data directory for one test file.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/core/config.js";
import { startRunguard, type Runguard, type StartOptions } from "../../src/app/runguard.js";
import { createLogger } from "../../src/app/logger.js";
import { gcloudEnv } from "../../src/app/gcloud-env.js";
import { mintAccessToken, signInGcloudAs } from "../../src/app/local-credentials.js";
import { signedIn } from "../../src/cli/local.js";
import { parsePrincipal } from "../../src/iam/principal-parse.js";
import { ensureUser } from "../../src/accounts/users.js";

export interface TestRunguard extends Runguard {
  dataDir: string;
  /** Environment for the real gcloud, signed in as `principal` (default: the owner). */
  gcloudEnvFor(principal?: string): Promise<Record<string, string>>;
  accessTokenFor(principal: string): Promise<string>;
  /** A Google-shaped ID token for `email` with this audience, signed by runguard's keys. */
  idTokenFor(email: string, audience: string, kind?: "user" | "serviceAccount"): Promise<string>;
  stop(): Promise<void>;
}

export const OWNER = "developer@example.com";
export const PROJECT = "my-gcp-project";

export async function startTestRunguard(
  overrides: Record<string, unknown> = {},
  startOptions: Pick<StartOptions, "grpcLimits"> = {},
): Promise<TestRunguard> {
  const dataDir = mkdtempSync(join(tmpdir(), "runguard-test-"));
  const config = parseConfig({
    dataDir,
    apiPort: 0,
    frontEndPort: 0,
    lbPort: 0,
    lbHttpsPort: 0,
    projectId: PROJECT,
    ownerEmail: OWNER,
    ...overrides,
  });
  const runguard = await startRunguard(config, { ...startOptions, logger: createLogger({ level: "silent" }) });
  const { platform } = runguard;
  const accessTokenFor = async (text: string) => {
    const principal = parsePrincipal(text);
    if (principal.kind === "anonymous") throw new Error("no token for allUsers");
    if (principal.kind === "user") await ensureUser(platform, principal.email);
    return mintAccessToken(platform, principal);
  };
  return {
    ...runguard,
    dataDir,
    accessTokenFor,
    async idTokenFor(email, audience, kind = "user") {
      return platform.tokens.signIdToken({
        principal: { kind, email },
        uniqueId: (await ensureUser(platform, email)).uniqueId,
        audience,
        includeEmail: true,
      });
    },
    async gcloudEnvFor(text = `user:${OWNER}`) {
      const principal = signedIn(text);
      if (principal.kind === "user") await ensureUser(platform, principal.email);
      return gcloudEnv({
        apiUrl: runguard.endpoints.api,
        projectId: PROJECT,
        region: "us-central1",
        configDir: await signInGcloudAs(platform, dataDir, principal),
        caBundlePath: runguard.endpoints.caBundlePath,
      });
    },
    async stop() {
      await runguard.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
