// The types a declared Knative Service must have before apply stores it. The Admin API's own request checks are
// not on apply's path, and a label, annotation or env value that is not a string (`value: 8081` unquoted,
// `labels: {team: 7}`) would be stored as it is and then break every client that lists services (gcloud raises
// InvalidDataFromServerError). Fields runguard does not read (probes, resources' requests…) pass as they are.
import { z } from "zod";
import { invalidArgument } from "../core/errors.js";
import type { ExportedService } from "../run/knative-export.js";

const text = z.string({ error: "a string is expected" });
const number = z.number({ error: "a number is expected" });
const flag = z.boolean({ error: "true or false is expected" });
const stringMap = z.record(z.string(), text, { error: "a map of strings to strings is expected" });
const list = <T extends z.ZodType>(item: T) => z.array(item, { error: "a list is expected" });
const object = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape, { error: "an object is expected" });

const metadata = object({
  name: text.optional(),
  namespace: text.optional(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
});

const envVar = object({
  name: text,
  value: text.optional(),
  // gcloud writes secret references as valueFrom.secretKeyRef; other sources pass to the API's own checks.
  valueFrom: object({ secretKeyRef: object({ name: text, key: text }).optional() }).optional(),
});

const container = object({
  name: text.optional(),
  image: text,
  command: list(text).optional(),
  args: list(text).optional(),
  env: list(envVar).optional(),
  ports: list(object({ name: text.optional(), containerPort: number.optional() })).optional(),
  resources: object({ limits: stringMap.optional() }).optional(),
  volumeMounts: list(object({ name: text, mountPath: text, readOnly: flag.optional() })).optional(),
});

const volume = object({
  name: text,
  secret: object({
    secretName: text,
    items: list(object({ key: text, path: text, mode: number.optional() })).optional(),
    defaultMode: number.optional(),
  }).optional(),
});

const knativeServiceSchema = object({
  apiVersion: text.optional(),
  kind: z.literal("Service", { error: "`Service` is expected" }),
  metadata: metadata.extend({ name: text }),
  spec: object({
    template: object({
      metadata: metadata.optional(),
      spec: object({
        containerConcurrency: number.optional(),
        timeoutSeconds: number.optional(),
        serviceAccountName: text.optional(),
        containers: list(container),
        volumes: list(volume).optional(),
      }),
    }),
    traffic: list(
      object({
        revisionName: text.optional(),
        latestRevision: flag.optional(),
        percent: number.optional(),
        tag: text.optional(),
      }),
    ).optional(),
  }),
});

type Path = ReadonlyArray<PropertyKey>;

/** `spec.template.spec.containers[0].env[1].value`, as a user reads a field's place. */
function fieldPath(prefix: string, path: Path): string {
  return path.reduce<string>(
    (where, key) => (typeof key === "number" ? `${where}[${key}]` : where ? `${where}.${String(key)}` : String(key)),
    prefix,
  );
}

/** The first own `__proto__` key anywhere in a parsed document (YAML and JSON parsers keep it as data). */
function prototypeKey(value: unknown, path: PropertyKey[] = []): PropertyKey[] | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  if (!Array.isArray(value) && Object.hasOwn(value, "__proto__")) return [...path, "__proto__"];
  for (const [key, child] of Object.entries(value)) {
    const found = prototypeKey(child, [...path, Array.isArray(value) ? Number(key) : key]);
    if (found) return found;
  }
  return undefined;
}

/**
 * Checks a declared service's field types; a wrong one is INVALID_ARGUMENT naming `source` and the field
 * (`where` is the service's own place in it, `services[0]`, or empty for a document of a Knative YAML file).
 */
export function checkDeclaredService(service: ExportedService, source: string, where: string): void {
  const name = where ? "" : ` (service ${service.metadata.name})`;
  const forbidden = prototypeKey(service);
  if (forbidden)
    throw invalidArgument(`${source}${name}: ${fieldPath(where, forbidden)}: a key named __proto__ is not allowed.`);
  const parsed = knativeServiceSchema.safeParse(service);
  if (parsed.success) return;
  const issues = parsed.error.issues.slice(0, 3).map((issue) => `${fieldPath(where, issue.path)}: ${issue.message}`);
  throw invalidArgument(`${source}${name}: ${issues.join("; ")}`);
}
