// The environment of an instance: the container contract (PORT, K_SERVICE, K_REVISION, K_CONFIGURATION),
// the revision's plain env vars, the metadata server (process isolation only), and runguard's egress proxy and CA.
import type { StoredRevision } from "../run/types.js";

export interface InstanceNetworkEnv {
  /**
   * host:port of the metadata server when it is not where Google's libraries look by default (process isolation:
   * a loopback port). In netns isolation it is at 169.254.169.254 and metadata.google.internal: unset.
   */
  metadataHostPort?: string;
  /** http://127.0.0.1:PORT of the egress proxy, or undefined when instances have no outbound gateway. */
  egressProxyUrl?: string;
  /** PEM bundle (runguard CA + system CAs) for TLS clients inside the instance. */
  caBundlePath?: string;
  caCertPath?: string;
}

/** What a process inherits from runguard itself: only what a container would also have. */
const INHERITED = ["PATH", "LANG", "LC_ALL", "TZ"];

export function buildContainerEnv(
  revision: StoredRevision,
  port: number,
  network: InstanceNetworkEnv,
  resolvedSecrets: Record<string, string>,
  home: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  env["HOME"] = home;
  const container = revision.template.spec.containers[0];
  for (const variable of container?.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
  }
  Object.assign(env, resolvedSecrets);
  env["PORT"] = String(port);
  env["K_SERVICE"] = revision.service;
  env["K_REVISION"] = revision.name;
  env["K_CONFIGURATION"] = revision.service;
  if (network.metadataHostPort) {
    env["GCE_METADATA_HOST"] = network.metadataHostPort;
    env["GCE_METADATA_IP"] = network.metadataHostPort;
    env["GCE_METADATA_ROOT"] = network.metadataHostPort;
  }
  if (network.egressProxyUrl) {
    for (const key of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) env[key] = network.egressProxyUrl;
    // The metadata server is reached directly, never through a proxy (fidelity reference §5).
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,::1,169.254.169.254,metadata.google.internal";
  }
  if (network.caBundlePath) {
    env["REQUESTS_CA_BUNDLE"] = network.caBundlePath;
    env["SSL_CERT_FILE"] = network.caBundlePath;
    env["CURL_CA_BUNDLE"] = network.caBundlePath;
  }
  if (network.caCertPath) env["NODE_EXTRA_CA_CERTS"] = network.caCertPath;
  return env;
}

/** Cloud Run's override rules: `command` replaces the image's entrypoint, `args` its arguments. */
export function buildArgv(imageCommand: string[], command?: string[], args?: string[]): string[] {
  if (command && command.length > 0) return [...command, ...(args ?? [])];
  if (args && args.length > 0) return [imageCommand[0] ?? "", ...args];
  return imageCommand;
}
