// Secret-looking values in plain environment variables: visible to anyone who can describe the service.
import type { Check } from "../model.js";
import { finding, region } from "./helpers.js";

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY)/i;
const KNOWN_FORMATS: Array<[string, RegExp]> = [
  ["AWS access key", /\bAKIA[0-9A-Z]{16}\b/],
  ["GitHub token", /\bgh[pousr]_[A-Za-z0-9]{36,}\b/],
  ["Stripe live key", /\b[sr]k_live_[A-Za-z0-9]{16,}\b/],
  ["Slack token", /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/],
  ["Google API key", /\bAIza[0-9A-Za-z_-]{35}\b/],
  ["private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ["password in a URL", /:\/\/[^/\s:@]+:[^/\s@]+@/],
];

/** Shannon entropy in bits per character. */
export function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const c of value) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / value.length) * Math.log2(n / value.length);
  return bits;
}

export function secretLikeReason(name: string, value: string): string | undefined {
  const format = KNOWN_FORMATS.find(([, pattern]) => pattern.test(value));
  if (format) return `its value looks like a ${format[0]}`;
  if (SECRET_NAME.test(name) && value.length > 0) return "its name says it holds a credential";
  if (value.length >= 24 && !/\s/.test(value) && entropy(value) >= 4.2)
    return "its value is a long high-entropy string";
  return undefined;
}

export const plainEnvSecrets: Check = {
  id: "RG-SEC-001",
  severity: "high",
  title: "Secret-looking value in a plain environment variable",
  why: "Plain env vars are stored in the service definition and shown to anyone who can describe the service; Secret Manager values are not.",
  run(input) {
    return input.services.flatMap((s) =>
      s.env.flatMap(({ name, value }) => {
        const reason = secretLikeReason(name, value);
        if (!reason) return [];
        const secretId = name.toLowerCase().replace(/_/g, "-");
        return [
          finding(this, s.resource, `env ${name} (${reason}; value not shown)`, [
            `printf '%s' "$VALUE" | gcloud secrets create ${secretId} --data-file=-`,
            `gcloud secrets add-iam-policy-binding ${secretId} --member=serviceAccount:${s.serviceAccount} --role=roles/secretmanager.secretAccessor`,
            `gcloud run services update ${s.name} ${region(s)} --remove-env-vars=${name} --set-secrets=${name}=${secretId}:latest`,
          ]),
        ];
      }),
    );
  },
};
