// Which isolation this machine allows. "netns": each instance gets its own network namespace (needs root or
// unprivileged user namespaces): its only ways out are runguard's relays, so egress rules are enforced for
// every protocol, and apps that hard-code a port (8080) coexist. "process": instances share the host network;
// egress rules apply to clients that honour the proxy variables, and a hard-coded port runs once at a time.
import { spawnSync } from "node:child_process";

export type IsolationMode = "netns" | "process";

/**
 * A new network namespace, and a private mount namespace so that secret volumes appear at their paths; with
 * `pid`, a PID namespace too (the launcher is its init, with a /proc of its own).
 */
export function unshareArgs(pid = false): string[] {
  const namespaces = ["--net", "--mount", "--propagation", "private", ...(pid ? ["--pid", "--mount-proc"] : [])];
  return process.getuid?.() === 0
    ? [...namespaces, "--fork", "--kill-child"]
    : [...namespaces, "--map-root-user", "--fork", "--kill-child"];
}

export function detectIsolation(requested: "auto" | IsolationMode = "auto"): IsolationMode {
  if (requested === "process") return "process";
  const probe = spawnSync("unshare", [...unshareArgs(), "ip", "link", "set", "lo", "up"], {
    stdio: "ignore",
    timeout: 5000,
  });
  const works = probe.status === 0;
  if (requested === "netns" && !works)
    throw new Error(
      "network namespaces are not available on this machine (needs root or unprivileged user namespaces)",
    );
  return works ? "netns" : "process";
}
