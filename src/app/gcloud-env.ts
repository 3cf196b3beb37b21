// The environment that points the real gcloud CLI and Google's client libraries at runguard
// (shared/reference/gcloud-wire.md §1.5, docs/network.md): every gcloud API overridden to its real host name over
// https, runguard as the HTTPS and gRPC proxy of every client (it answers CONNECT for Google's API hosts and
// *.run.app with TLS from its local CA, and refuses every other target), that CA in the trust stores clients read,
// so nothing ever looks up a Google host; the chosen principal signed in in gcloud's own credential store and as
// Application Default Credentials (gcloud-credentials.ts).
// Plain HTTP is not proxied: no proxy variable can say "only these hosts" (NO_PROXY lists exceptions, and `*`
// turns the proxy off), and runguard forwards to nowhere, so an `HTTP_PROXY` would answer every plain http:// URL
// with runguard's 404.
import { adcFileIn } from "./gcloud-credentials.js";

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
  /** runguard's local CA followed by the system CAs (LocalCa.bundlePath). */
  caBundlePath?: string;
}

const LOOPBACK = "127.0.0.1,localhost,::1";

export function gcloudEnv(options: GcloudEnvOptions): Record<string, string> {
  const proxy = new URL(options.apiUrl);
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
    CLOUDSDK_AUTH_TOKEN_HOST: "https://oauth2.googleapis.com/token",
    CLOUDSDK_PROXY_TYPE: "http",
    CLOUDSDK_PROXY_ADDRESS: proxy.hostname.replace(/^\[|\]$/g, ""),
    CLOUDSDK_PROXY_PORT: proxy.port || "80",
    // gaxios reads HTTPS_PROXY, grpc-js only the lower-case names (grpc_proxy first), Python both.
    HTTPS_PROXY: options.apiUrl,
    https_proxy: options.apiUrl,
    grpc_proxy: options.apiUrl,
    NO_PROXY: LOOPBACK,
    no_proxy: LOOPBACK,
    GOOGLE_APPLICATION_CREDENTIALS: adcFileIn(options.configDir),
    GOOGLE_CLOUD_PROJECT: options.projectId,
  };
  if (options.caBundlePath) {
    // Node (added to its own roots), grpc-js (its roots), Python requests, OpenSSL-based tools and curl.
    env["CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE"] = options.caBundlePath;
    for (const name of [
      "NODE_EXTRA_CA_CERTS",
      "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
      "REQUESTS_CA_BUNDLE",
      "SSL_CERT_FILE",
      "CURL_CA_BUNDLE",
    ])
      env[name] = options.caBundlePath;
  }
  for (const api of GCLOUD_APIS) {
    env[`CLOUDSDK_API_ENDPOINT_OVERRIDES_${api.toUpperCase()}`] =
      `https://${api}.googleapis.com/${API_BASE_PATHS[api] ?? ""}`;
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
