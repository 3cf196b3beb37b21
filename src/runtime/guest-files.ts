// The files an instance sees at the system's own paths, so that workloads resolve names and trust runguard's
// local CA without any setting of their own: /etc/resolv.conf names the namespace's DNS server, /etc/hosts the
// metadata server, and the system CA bundle also holds runguard's CA (clients that read it by default, such as
// curl, OpenSSL and Python's ssl, trust it; the CA variables stay set for the others). The netns launcher binds
// them in the instance's private mount namespace; a container runtime binds the same files into its rootfs.
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { METADATA_ADDRESS } from "./namespace-network.js";

export interface GuestFile {
  /** On the host: in the instance's socket directory (runguard's only), or runguard's public CA bundle. */
  source: string;
  /** The path inside the instance. */
  target: string;
}

export const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/**
 * Writes resolv.conf and hosts into `dir` and lists them, with the bundle (runguard's CA followed by the
 * system's, public and shared by every instance), as files to bind at their paths inside the instance.
 */
export function writeGuestFiles(dir: string, caBundlePath: string): GuestFile[] {
  const resolvConf = join(dir, "resolv.conf");
  const hosts = join(dir, "hosts");
  writeFileSync(resolvConf, "nameserver 127.0.0.1\noptions timeout:1 attempts:2\n", { mode: 0o644 });
  writeFileSync(
    hosts,
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
      `${METADATA_ADDRESS}\tmetadata.google.internal metadata\n`,
    { mode: 0o644 },
  );
  return [
    { source: resolvConf, target: "/etc/resolv.conf" },
    { source: hosts, target: "/etc/hosts" },
    { source: caBundlePath, target: SYSTEM_CA_BUNDLE },
  ];
}
