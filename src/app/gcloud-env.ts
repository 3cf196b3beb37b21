// The environment that points the real gcloud CLI at runguard (shared/reference/gcloud-wire.md §1.5):
// every API overridden to its real host name over plain http, runguard as the HTTP proxy, so gcloud never looks
// up a Google host; the chosen principal signed in in gcloud's own credential store (gcloud-credentials.ts).

export const GCLOUD_APIS = [
  "run",
  "iam",
  "iamcredentials",
  "secretmanager",
  "cloudresourcemanager",
  "compute",
  "serviceusage",
  "logging",
  "vpcaccess",
  "iap",
  // What `gcloud run deploy --source` calls: the repository, the default build account and the build's
  // operation, and the bucket the source is uploaded to.
  "artifactregistry",
  "cloudbuild",
  "storage",
] as const;

/** APIs whose base URL has a path after the host (gcloud's generated client's BASE_URL). */
const API_BASE_PATHS: Partial<Record<(typeof GCLOUD_APIS)[number], string>> = { storage: "storage/v1/" };

export interface GcloudEnvOptions {
  apiUrl: string;
  projectId: string;
  region: string;
  /** gcloud's configuration directory, where the principal is signed in (signInGcloud). */
  configDir: string;
}

export function gcloudEnv(options: GcloudEnvOptions): Record<string, string> {
  const env: Record<string, string> = {
    CLOUDSDK_CONFIG: options.configDir,
    CLOUDSDK_CORE_PROJECT: options.projectId,
    CLOUDSDK_RUN_REGION: options.region,
    CLOUDSDK_CORE_CHECK_GCE_METADATA: "false",
    GCE_METADATA_ROOT: "127.0.0.1:9",
    GCE_METADATA_IP: "127.0.0.1:9",
    NO_GCE_CHECK: "True",
    CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: "true",
    CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: "true",
    CLOUDSDK_CORE_DISABLE_PROMPTS: "1",
    CLOUDSDK_AUTH_TOKEN_HOST: "http://oauth2.googleapis.com/token",
    HTTP_PROXY: options.apiUrl,
    http_proxy: options.apiUrl,
    NO_PROXY: "127.0.0.1,localhost,::1",
    no_proxy: "127.0.0.1,localhost,::1",
  };
  for (const api of GCLOUD_APIS) {
    env[`CLOUDSDK_API_ENDPOINT_OVERRIDES_${api.toUpperCase()}`] =
      `http://${api}.googleapis.com/${API_BASE_PATHS[api] ?? ""}`;
  }
  return env;
}

export function toShellExports(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([key, value]) => `export ${key}=${shellQuote(value)}`)
    .join("\n");
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:,@+-]*$/.test(value) && value !== "" ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
