// Knative Service YAML as `gcloud run services describe --format=export` writes it: one or more documents, each
// a `kind: Service`. The analyzer reads these offline and `runguard apply`/`import` deploy them.
import { parseAllDocuments } from "yaml";
import { invalidArgument } from "../core/errors.js";
import type { RevisionTemplate, TrafficTarget } from "./types.js";

export interface ExportedService {
  apiVersion?: string;
  kind: "Service";
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: { template: RevisionTemplate; traffic?: TrafficTarget[] };
}

/** The region a Cloud Run export names in its location label. */
export const LOCATION_LABEL = "cloud.googleapis.com/location";

export function isExportedService(value: unknown): value is ExportedService {
  const service = value as Partial<ExportedService> | null;
  return (
    typeof service === "object" &&
    service !== null &&
    service.kind === "Service" &&
    typeof service.metadata?.name === "string" &&
    typeof service.spec?.template === "object" &&
    service.spec.template !== null
  );
}

/**
 * Every `kind: Service` document of a YAML text. Syntax errors are INVALID_ARGUMENT naming `source` and the line;
 * documents of other kinds are skipped (an export of several resources may hold them).
 */
export function parseServiceExports(text: string, source: string): ExportedService[] {
  const services: ExportedService[] = [];
  for (const document of parseAllDocuments(text)) {
    const error = document.errors[0];
    if (error)
      throw invalidArgument(`${source}: not valid YAML: ${(error.message.split("\n")[0] ?? "").replace(/:$/, "")}`);
    const value: unknown = document.toJSON();
    if (isExportedService(value)) services.push(value);
  }
  return services;
}
