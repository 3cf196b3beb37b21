// Cloud Run URLs: the deterministic https://SERVICE-PROJECT_NUMBER.REGION.run.app (when the DNS label fits in
// 63 characters) and the hash form https://SERVICE-HASH-REGIONCODE.a.run.app. Both are accepted audiences.

const REGION_CODES: Record<string, string> = {
  "us-central1": "uc",
  "us-east1": "ue",
  "us-east4": "uk",
  "us-west1": "uw",
  "us-west2": "wl",
  "europe-west1": "ew",
  "europe-west2": "nw",
  "europe-west3": "ey",
  "europe-west4": "ez",
  "europe-north1": "lz",
  "asia-east1": "de",
  "asia-northeast1": "an",
  "asia-southeast1": "as",
  "australia-southeast1": "ts",
};

export function regionCode(region: string): string {
  return REGION_CODES[region] ?? region.replace(/[^a-z]/g, "").slice(0, 2);
}

export interface ServiceUrlParts {
  service: string;
  projectNumber: string;
  region: string;
  urlHash: string;
}

export function deterministicHost(parts: ServiceUrlParts): string | undefined {
  const label = `${parts.service}-${parts.projectNumber}`;
  return label.length <= 63 ? `${label}.${parts.region}.run.app` : undefined;
}

export function hashHost(parts: ServiceUrlParts): string {
  return `${parts.service}-${parts.urlHash}-${regionCode(parts.region)}.a.run.app`;
}

/** Every URL of a service, the deterministic one first (gcloud shows the first). */
export function serviceUrls(parts: ServiceUrlParts): string[] {
  const deterministic = deterministicHost(parts);
  return [...(deterministic ? [`https://${deterministic}`] : []), `https://${hashHost(parts)}`];
}
