// How services use secrets and credentials: `latest` in production, key files and API keys for
// service-to-service calls.
import type { Check } from "../model.js";
import { finding, region } from "./helpers.js";

const PRODUCTION = /^(prod|production)$/i;

export const latestInProduction: Check = {
  id: "RG-SEC-002",
  severity: "low",
  title: "Production service follows a secret's `latest` version",
  why: "With :latest, a rotation mid-deployment changes what running instances read; the seed advises pinning a version in production and updating deliberately.",
  run(input) {
    return input.services
      .filter((s) =>
        Object.entries(s.labels).some(([k, v]) => /^(env|environment|stage)$/i.test(k) && PRODUCTION.test(v)),
      )
      .flatMap((s) =>
        s.secrets
          .filter((r) => r.version === "latest")
          .map((r) =>
            finding(this, s.resource, `${r.target}=${r.secret}:latest`, [
              `gcloud run services update ${s.name} ${region(s)} --update-secrets=${r.target}=${r.secret}:VERSION`,
            ]),
          ),
      );
  },
};

const KEY_FILE_ENV = /^GOOGLE_APPLICATION_CREDENTIALS$/;
const API_KEY_ENV = /(^|_)API_?KEY$/i;

export const staticCredentialsForServiceCalls: Check = {
  id: "RG-S2S-001",
  severity: "medium",
  title: "Service uses a key file or an API key instead of metadata-server tokens",
  why: "Cloud Run services can call each other with short-lived OIDC tokens from the metadata server; key files and API keys are static and carry no identity.",
  run(input) {
    return input.services.flatMap((s) => {
      const sources = [...s.env.map((e) => e.name), ...s.secrets.filter((r) => r.kind === "env").map((r) => r.target)];
      const keyFile = sources.filter((n) => KEY_FILE_ENV.test(n));
      const apiKeys = sources.filter((n) => API_KEY_ENV.test(n));
      const callsServices = s.env.some((e) => /\.run\.app\b/.test(e.value));
      const evidence = [
        ...keyFile.map((n) => `${n} points at a key file`),
        ...(callsServices ? apiKeys.map((n) => `${n} next to a run.app URL`) : []),
      ];
      return evidence.length > 0
        ? [
            finding(this, s.resource, evidence.join("; "), [
              `gcloud run services update ${s.name} ${region(s)} --remove-env-vars=${[...keyFile, ...apiKeys].join(",")}`,
              `# call other services with google.oauth2.id_token.fetch_id_token / getIdTokenClient`,
            ]),
          ]
        : [];
    });
  },
};
