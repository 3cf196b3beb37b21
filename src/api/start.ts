// start(): runguard in the calling process, for tests. Free ports and a throwaway data directory by default;
// deploys and IAM changes go through runguard's own Google APIs as the project owner, as gcloud's would.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseConfig } from "../core/config.js";
import { startRunguard, type Endpoints, type Runguard } from "../app/runguard.js";
import { createLogger } from "../app/logger.js";
import { gcloudEnv } from "../app/gcloud-env.js";
import { mintAccessToken, signInGcloudAs } from "../app/local-credentials.js";
import { ensureUser } from "../accounts/users.js";
import { findServiceAccount } from "../accounts/service-accounts.js";
import { parsePrincipal } from "../iam/principal-parse.js";
import { invalidArgument } from "../core/errors.js";
import type { StoredService } from "../run/types.js";
import { urlsOf } from "../run/render.js";
import { createAdminClient } from "./admin-client.js";
import { endpointVariables, type ServiceAddress } from "./environment.js";
import {
  applyState,
  loadState,
  loadStateDocument,
  resetState,
  type ApplySummary,
  type DeclaredState,
} from "../declarative/index.js";
import {
  createDeployer,
  waitForLocalUrl,
  type DeployedService,
  type DeployOptions,
  type ServiceBinding,
} from "./deploy.js";

export interface StartOptions {
  /** Keep runguard's state here (kept by stop()). Default: a new directory under the system's temp dir, removed by stop(). */
  dataDir?: string;
  projectId?: string;
  ownerEmail?: string;
  region?: string;
  /** Each port defaults to 0: a free one. */
  ports?: { api?: number; frontEnd?: number; loadBalancer?: number; loadBalancerHttps?: number };
  /** "auto" (default): a network namespace per instance where the machine allows it. */
  isolation?: "auto" | "netns" | "process";
  /**
   * A state file (`runguard.yaml`) or a directory of gcloud's exports, read before anything starts (a bad file
   * stops start() with INVALID_ARGUMENT naming the file and field) and applied once runguard is up. Its `project`
   * is the project unless projectId is given.
   */
  config?: string;
  /** runguard's own log on stderr: a pino level (default "warn"). */
  logLevel?: "silent" | "fatal" | "error" | "warn" | "info" | "debug";
}

/** A principal as IAM writes it (`user:EMAIL`, `serviceAccount:EMAIL`), or a bare email. */
export type PrincipalText = string;

export interface StartedRunguard {
  readonly endpoints: Readonly<Endpoints>;
  readonly dataDir: string;
  /** The environment of `runguard env` for the owner (a CLOUDSDK_CONFIG of its own) and RUNGUARD_* endpoints. */
  readonly env: Readonly<Record<string, string>>;
  /** A Google-shaped ID token for the principal, signed by runguard's keys. */
  token(options: { principal: PrincipalText; audience: string }): Promise<string>;
  /** A `ya29.` access token (cloud-platform scope) for the principal. */
  accessToken(options: { principal: PrincipalText }): Promise<string>;
  /** Creates or replaces a Cloud Run service, through the Run Admin API. */
  deploy(options: DeployOptions): Promise<DeployedService>;
  /** Adds a member to a role in a service's IAM policy (read, modify, write with the etag, as gcloud does). */
  addBinding(binding: ServiceBinding): Promise<void>;
  removeBinding(binding: ServiceBinding): Promise<void>;
  /** Replaces a service's IAM policy. */
  setIamPolicy(
    service: string,
    policy: { bindings: { role: string; members: string[] }[] },
    region?: string,
  ): Promise<void>;
  /**
   * Applies a state file or export directory, or an object in runguard.yaml's shape (its file paths relative to
   * the working directory), as docs/declarative.md describes: creates and updates, never deletes.
   */
  apply(config: string | Record<string, unknown>): Promise<ApplySummary>;
  /** The project back to how a first start leaves it: no services, service accounts, secrets, groups… */
  reset(): Promise<ApplySummary>;
  /** Every service, with its URL and loopback URL. */
  services(): Promise<ServiceAddress[]>;
  /** Stops runguard and every instance; removes the data directory if start() made it. Safe to call twice. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export function principalOf(text: PrincipalText) {
  const withKind = text.includes(":") || text === "allUsers" ? text : `${kindOfEmail(text)}:${text}`;
  const principal = parsePrincipal(withKind);
  if (principal.kind === "anonymous") throw invalidArgument("No token is issued for allUsers: name a principal.");
  return principal;
}

const kindOfEmail = (email: string) => (/\.gserviceaccount\.com$/i.test(email) ? "serviceAccount" : "user");

export async function start(options: StartOptions = {}): Promise<StartedRunguard> {
  const throwaway = options.dataDir === undefined;
  const declared = options.config === undefined ? undefined : await loadState(resolve(options.config));
  const projectId = options.projectId ?? declared?.project;
  const dataDir = throwaway ? mkdtempSync(join(tmpdir(), "runguard-data-")) : resolve(options.dataDir as string);
  let runguard: Runguard;
  try {
    const config = parseConfig({
      dataDir,
      apiPort: options.ports?.api ?? 0,
      frontEndPort: options.ports?.frontEnd ?? 0,
      lbPort: options.ports?.loadBalancer ?? 0,
      lbHttpsPort: options.ports?.loadBalancerHttps ?? 0,
      ...(projectId ? { projectId } : {}),
      ...(options.ownerEmail ? { ownerEmail: options.ownerEmail } : {}),
      ...(options.region ? { region: options.region } : {}),
      ...(options.isolation ? { isolation: options.isolation } : {}),
    });
    runguard = await startRunguard(config, { logger: createLogger({ level: options.logLevel ?? "warn" }) });
  } catch (error) {
    if (throwaway) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const started = await wrap(runguard, dataDir, throwaway);
  if (declared) await applyOrStop(started, () => applyState(runguard.platform, declared));
  return started;
}

/** A state that cannot be applied stops what start() started: the caller gets the error and nothing running. */
async function applyOrStop(started: StartedRunguard, apply: () => Promise<unknown>): Promise<void> {
  try {
    await apply();
  } catch (error) {
    await started.stop();
    throw error;
  }
}

async function applyFile(runguard: Runguard, config: string | Record<string, unknown>): Promise<ApplySummary> {
  const state: DeclaredState =
    typeof config === "string"
      ? await loadState(resolve(config))
      : await loadStateDocument(config, "apply(config)", process.cwd());
  return applyState(runguard.platform, state);
}

async function wrap(runguard: Runguard, dataDir: string, throwaway: boolean): Promise<StartedRunguard> {
  const { platform, endpoints } = runguard;
  const owner = { kind: "user" as const, email: endpoints.ownerEmail };
  const env = Object.freeze({
    ...gcloudEnv({
      apiUrl: endpoints.api,
      projectId: endpoints.projectId,
      region: endpoints.region,
      configDir: await signInGcloudAs(platform, dataDir, owner),
      caBundlePath: endpoints.caBundlePath,
    }),
    ...endpointVariables(endpoints, dataDir),
  });
  const admin = createAdminClient(platform, endpoints.api, endpoints.ownerEmail);
  const localUrlOf = (resource: string) => {
    const port = runguard.dataPlane.servicePorts.portOf(resource);
    return port ? `http://127.0.0.1:${port}` : undefined;
  };
  const deployer = createDeployer({ admin, store: platform.store, endpoints, localUrlOf });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await runguard.close();
      if (throwaway) rmSync(dataDir, { recursive: true, force: true });
    })());
  return {
    endpoints: Object.freeze({ ...endpoints }),
    dataDir,
    env,
    async token({ principal, audience }) {
      const who = principalOf(principal);
      const uniqueId =
        who.kind === "user"
          ? (await ensureUser(platform, who.email)).uniqueId
          : (await findServiceAccount(platform, "-", who.email))?.uniqueId;
      if (uniqueId === undefined) throw invalidArgument(`Service account ${who.email} does not exist.`);
      return platform.tokens.signIdToken({ principal: who, uniqueId, audience, includeEmail: true });
    },
    async accessToken({ principal }) {
      const who = principalOf(principal);
      if (who.kind === "user") await ensureUser(platform, who.email);
      return mintAccessToken(platform, who);
    },
    deploy: (deployOptions) => deployer.deploy(deployOptions),
    addBinding: (binding) => deployer.changeBinding(binding, "add"),
    removeBinding: (binding) => deployer.changeBinding(binding, "remove"),
    setIamPolicy: (service, policy, region) => deployer.setIamPolicy(service, policy, region),
    apply: (config) => applyFile(runguard, config),
    reset: () => resetState(platform),
    async services() {
      const services = await platform.store.list<StoredService>("service");
      return Promise.all(
        services.map(async (service) => {
          // A service just applied gets its port when the change feed reaches the port manager: moments later.
          const localUrl = await waitForLocalUrl(() => localUrlOf(service.resource));
          return {
            name: service.name,
            url: urlsOf(service, endpoints.projectNumber)[0] ?? "",
            ...(localUrl ? { localUrl } : {}),
          };
        }),
      );
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
