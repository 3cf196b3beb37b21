// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core. Chromium's own background traffic is
// switched off, and host names resolve to loopback only, so a test never reaches beyond this machine. The
// browser trusts runguard's local CA the way a developer's would: the CA is added to the NSS database of a
// throwaway home directory (certutil, Debian's libnss3-tools), so certificate checking stays on.
import { chromium, type Browser } from "playwright-core";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CHROMIUM = "/usr/bin/chromium";

function homeTrusting(caFile: string): string {
  const home = mkdtempSync(join(tmpdir(), "runguard-browser-"));
  const nssdb = join(home, ".pki", "nssdb");
  mkdirSync(nssdb, { recursive: true });
  execFileSync("certutil", ["-d", `sql:${nssdb}`, "-N", "--empty-password"]);
  execFileSync("certutil", ["-d", `sql:${nssdb}`, "-A", "-n", "runguard local CA", "-t", "C,,", "-i", caFile]);
  return home;
}

export async function launchChromium(options: { mapToLoopback: string[]; trustCaFile?: string }): Promise<Browser> {
  const rules = options.mapToLoopback.map((host) => `MAP ${host} 127.0.0.1`).join(", ");
  const home = options.trustCaFile
    ? homeTrusting(options.trustCaFile)
    : mkdtempSync(join(tmpdir(), "runguard-browser-"));
  return chromium.launch({
    executablePath: CHROMIUM,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-domain-reliability",
      `--host-resolver-rules=${rules}, EXCLUDE 127.0.0.1`,
    ],
  });
}
