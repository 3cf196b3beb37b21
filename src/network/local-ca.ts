// runguard's local certificate authority. Instances trust it (NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE,
// SSL_CERT_FILE), so their HTTPS calls to *.run.app can be answered by runguard. Created once, kept in the data
// directory (the key only sealed under the key-encryption key, see sealed-file.ts), ECDSA P-256 for fast signing;
// leaf certificates are cached per host name.
import { webcrypto, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Envelope } from "../secrets/envelope.js";
import { openSealedFile } from "../secrets/sealed-file.js";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
const DAY_MS = 24 * 3600 * 1000;

export interface LocalCa {
  caCertPem: string;
  caCertPath: string;
  /** runguard's CA followed by the system CAs, for clients that take one bundle. */
  bundlePath: string;
  certificateFor(hostname: string): Promise<{ key: string; cert: string }>;
}

function pemOf(label: string, der: ArrayBuffer): string {
  const body = Buffer.from(der)
    .toString("base64")
    .replace(/(.{64})/g, "$1\n")
    .trimEnd();
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

async function createCa(): Promise<{ certPem: string; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString("hex"),
    name: "CN=runguard local CA, O=runguard",
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 3650 * DAY_MS),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certPem: cert.toString("pem") + "\n",
    keyPem: pemOf("PRIVATE KEY", await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)),
  };
}

export async function openLocalCa(dir: string, envelope: Envelope): Promise<LocalCa> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caCertPath = join(dir, "ca.pem");
  const sealedKeyPath = join(dir, "ca-key.sealed");
  const bundlePath = join(dir, "ca-bundle.pem");
  // A key without its certificate is of no use: both are made again.
  if (!existsSync(caCertPath)) rmSync(sealedKeyPath, { force: true });
  const keyPem = (
    await openSealedFile(envelope, sealedKeyPath, {
      // Older runguards kept the key in clear here; a certificate without its key is made again.
      clearFile: existsSync(caCertPath) ? join(dir, "ca-key.pem") : undefined,
      async create() {
        const created = await createCa();
        writeFileSync(caCertPath, created.certPem, { mode: 0o644 });
        return Buffer.from(created.keyPem);
      },
    })
  ).toString();
  const caCertPem = readFileSync(caCertPath, "utf8");
  const system = existsSync(SYSTEM_BUNDLE) ? readFileSync(SYSTEM_BUNDLE, "utf8") : "";
  writeFileSync(bundlePath, `${caCertPem}\n${system}`, { mode: 0o644 });
  const caCert = new x509.X509Certificate(caCertPem);
  const caKey = await webcrypto.subtle.importKey(
    "pkcs8",
    Buffer.from(keyPem.replace(/-----[^-]+-----|\s/g, ""), "base64"),
    ALG,
    false,
    ["sign"],
  );
  const leaves = new Map<string, Promise<{ key: string; cert: string }>>();
  const MAX_CACHED_LEAVES = 1000;

  const issue = async (hostname: string) => {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    const now = Date.now();
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomBytes(8).toString("hex"),
      subject: `CN=${hostname}`,
      issuer: caCert.subject,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 365 * DAY_MS),
      signingKey: caKey,
      publicKey: keys.publicKey,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: "dns", value: hostname }]),
        await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ],
    });
    return {
      key: pemOf("PRIVATE KEY", await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)),
      cert: leaf.toString("pem") + "\n" + caCertPem,
    };
  };

  return {
    caCertPem,
    caCertPath,
    bundlePath,
    certificateFor(hostname) {
      let pending = leaves.get(hostname);
      if (pending) {
        // Most recently used last, so the oldest unused name is the one dropped below.
        leaves.delete(hostname);
        leaves.set(hostname, pending);
        return pending;
      }
      pending = issue(hostname);
      pending.catch(() => leaves.delete(hostname));
      leaves.set(hostname, pending);
      // Any name a client asks for (every *.googleapis.com or *.run.app name) gets a certificate: bounded.
      if (leaves.size > MAX_CACHED_LEAVES) leaves.delete(leaves.keys().next().value as string);
      return pending;
    },
  };
}
