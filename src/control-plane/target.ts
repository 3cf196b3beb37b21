// Where a request is going. gcloud uses runguard as its HTTP proxy (absolute-form request targets such as
// `GET http://us-central1-run.googleapis.com/apis/...`), because `gcloud run` prefixes the region to the API host;
// other clients call runguard directly and are routed by path.
import type { IncomingMessage } from "node:http";
import type { ApiName } from "./route.js";
import { invalidArgument } from "../core/errors.js";
import { parseRequestUrl } from "../core/http-input.js";

export interface RequestTarget {
  host: string;
  pathname: string;
  query: URLSearchParams;
  /** Known when the host names a Google API. */
  api?: ApiName;
  region?: string;
}

const GOOGLE_API_HOST = /^(?:(?<region>[a-z]+-[a-z]+\d+)-)?(?<api>[a-z0-9]+)\.googleapis\.com$/;
const KNOWN_APIS = new Set<string>([
  "iam",
  "iamcredentials",
  "cloudresourcemanager",
  "serviceusage",
  "run",
  "secretmanager",
  "compute",
  "logging",
  "vpcaccess",
  "oauth2",
  "iap",
  "artifactregistry",
  "cloudbuild",
  "storage",
  "www",
]);

/** Throws INVALID_ARGUMENT (400) for a target or Host that is not a URL (`Host: [`, `GET http://[`). */
export function parseTarget(req: IncomingMessage): RequestTarget {
  const raw = req.url ?? "/";
  const absolute = /^https?:\/\//i.test(raw);
  const url = parseRequestUrl(
    absolute ? raw : `http://${req.headers.host ?? "localhost"}${raw.startsWith("/") ? "" : "/"}${raw}`,
  );
  if (!url) throw invalidArgument("The request target or its Host header is malformed.");
  const host = url.hostname.toLowerCase();
  const target: RequestTarget = { host, pathname: url.pathname, query: url.searchParams };
  const match = GOOGLE_API_HOST.exec(host);
  const api = match?.groups?.["api"];
  if (api && KNOWN_APIS.has(api)) {
    target.api = api === "www" ? "oauth2" : (api as ApiName);
    const region = match?.groups?.["region"];
    if (region) target.region = region;
  }
  return target;
}
