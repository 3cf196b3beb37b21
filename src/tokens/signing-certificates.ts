// Google publishes its ID-token signing keys at /oauth2/v1/certs as self-signed X.509 certificates
// ({kid: PEM certificate}, issued to and by CN=federated-signon.system.gserviceaccount.com); verifiers that read
// that URL (google-auth-library's verifyIdToken, Python's google.oauth2.id_token) parse certificates, so
// runguard serves one per signing key, signed by the key itself.
import { createHash, webcrypto } from "node:crypto";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { LoadedKey } from "./key-ring.js";

const RS256 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const GOOGLE_SIGNON_NAME = "CN=federated-signon.system.gserviceaccount.com";
const DAY_MS = 24 * 3600 * 1000;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

async function certificateFor(key: LoadedKey): Promise<string> {
  const keys = {
    privateKey: await webcrypto.subtle.importKey(
      "pkcs8",
      key.privateKey.export({ type: "pkcs8", format: "der" }),
      RS256,
      false,
      ["sign"],
    ),
    publicKey: await webcrypto.subtle.importKey(
      "spki",
      key.publicKey.export({ type: "spki", format: "der" }),
      RS256,
      true,
      ["verify"],
    ),
  };
  const created = key.stored.createdAtMs;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    // Derived from the key id, so the same key always gets the same serial.
    serialNumber: createHash("sha256").update(key.kid).digest("hex").slice(0, 16),
    name: GOOGLE_SIGNON_NAME,
    // Verifiers use the certificate's public key only; the validity spans any key's publication.
    notBefore: new Date(created - DAY_MS),
    notAfter: new Date(created + 3650 * DAY_MS),
    keys,
    signingAlgorithm: RS256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  return `${cert.toString("pem")}\n`;
}

/** One certificate per key id, made once: a key id always names the same key. */
export function createSigningCertificates(): (key: LoadedKey) => Promise<string> {
  const made = new Map<string, Promise<string>>();
  return (key) => {
    let cert = made.get(key.kid);
    if (!cert) {
      cert = certificateFor(key);
      made.set(key.kid, cert);
      cert.catch(() => made.delete(key.kid));
    }
    return cert;
  };
}
