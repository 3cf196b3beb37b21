// Validation and defaults for a Knative Service sent by gcloud or a client library. Errors name the field the
// way Cloud Run does (google.rpc.BadRequest field violations), so gcloud prints `FIELD: DESCRIPTION`.
import { ApiError } from "../core/errors.js";
import type { Container, EnvVar, Ingress, RevisionTemplate } from "./types.js";

const SERVICE_NAME = /^[a-z](?:[-a-z0-9]{0,47}[a-z0-9])?$/;
const RESERVED_ENV = ["PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"];
export const INGRESS_VALUES: readonly Ingress[] = ["all", "internal", "internal-and-cloud-load-balancing"];
const EGRESS_VALUES = ["private-ranges-only", "all-traffic"];

export const DEFAULT_CONCURRENCY = 80;
export const DEFAULT_TIMEOUT_SECONDS = 300;

export function fieldViolation(field: string, description: string): ApiError {
  return new ApiError("INVALID_ARGUMENT", `${field}: ${description}`, [
    { "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field, description }] },
  ]);
}

export function validateServiceName(name: unknown): string {
  if (typeof name !== "string" || !SERVICE_NAME.test(name)) {
    throw fieldViolation(
      "metadata.name",
      "Resource name must use only lowercase letters, numbers and '-'. Must begin with a letter and cannot end with a '-'. Maximum length is 49 characters.",
    );
  }
  return name;
}

export function validateServiceAnnotations(annotations: Record<string, string>): void {
  const ingress = annotations["run.googleapis.com/ingress"];
  if (ingress !== undefined && !INGRESS_VALUES.includes(ingress as Ingress)) {
    throw fieldViolation(
      "metadata.annotations[run.googleapis.com/ingress]",
      `Invalid ingress setting '${ingress}'. Must be one of: ${INGRESS_VALUES.join(", ")}.`,
    );
  }
}

/** A secret version as a revision names it: "latest" or a version number. */
const isSecretVersion = (version: unknown) => /^(latest|\d+)$/.test(String(version));

function validateEnv(env: EnvVar[], prefix: string): void {
  if (env.length > 1000)
    throw fieldViolation(`${prefix}.env`, "A container may have at most 1000 environment variables.");
  const reserved = env.filter((e) => RESERVED_ENV.includes(e.name)).map((e) => e.name);
  if (reserved.length > 0) {
    throw fieldViolation(
      `${prefix}.env`,
      `The following reserved env names were provided: ${reserved.join(", ")}. These values are automatically set by the system.`,
    );
  }
  env.forEach((e, i) => {
    if (typeof e.name !== "string" || e.name === "" || e.name.includes("=") || e.name.startsWith("X_GOOGLE_")) {
      throw fieldViolation(
        `${prefix}.env[${i}].name`,
        "Environment variable names must be non-empty, must not contain '=' and must not start with 'X_GOOGLE_'.",
      );
    }
    const ref = e.valueFrom?.secretKeyRef;
    if (ref && (typeof ref.name !== "string" || !isSecretVersion(ref.key))) {
      throw fieldViolation(
        `${prefix}.env[${i}].valueFrom.secretKeyRef`,
        "A secret reference needs a secret name and a version ('latest' or a number).",
      );
    }
  });
}

const RESTRICTED_MOUNTS = ["/", "/dev", "/proc", "/sys", "/cloudsql", "/var/log", "/pod"];

function validateMounts(container: Container, prefix: string): void {
  (container.volumeMounts ?? []).forEach((mount, i) => {
    const path = mount.mountPath;
    const bad =
      typeof path !== "string" ||
      !path.startsWith("/") ||
      path.includes(":") ||
      path.split("/").includes("..") ||
      RESTRICTED_MOUNTS.some((r) => path === r || (r !== "/" && path.startsWith(`${r}/`)));
    if (bad) throw fieldViolation(`${prefix}.volumeMounts[${i}].mountPath`, `Invalid mount path '${String(path)}'.`);
  });
}

/** A secret file's path inside its mount: relative, with no empty, "." or ".." segment (it must stay inside). */
function isInsideMount(path: unknown): boolean {
  if (typeof path !== "string" || path === "" || path.startsWith("/")) return false;
  return path.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
}

function validateVolumes(volumes: RevisionTemplate["spec"]["volumes"]): void {
  (volumes ?? []).forEach((volume, i) => {
    const prefix = `spec.template.spec.volumes[${i}]`;
    if (typeof volume?.name !== "string" || volume.name === "")
      throw fieldViolation(`${prefix}.name`, "A volume needs a name.");
    const source = volume.secret;
    if (!source) return;
    if (typeof source.secretName !== "string" || source.secretName === "")
      throw fieldViolation(`${prefix}.secret.secretName`, "A secret volume needs a secret name.");
    (source.items ?? []).forEach((item, j) => {
      if (!isInsideMount(item?.path))
        throw fieldViolation(
          `${prefix}.secret.items[${j}].path`,
          `Invalid path '${String(item?.path)}': it must be relative to the mount path, without '.' or '..' segments.`,
        );
      if (!isSecretVersion(item.key))
        throw fieldViolation(`${prefix}.secret.items[${j}].key`, "A secret version is 'latest' or a number.");
    });
  });
}

const MEMORY_QUANTITY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/;
const MEMORY_UNITS: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
};
const MIN_MEMORY = 128 * 2 ** 20;
const MAX_MEMORY = 32 * 2 ** 30;

/**
 * Cloud Run's memory range. Below it a limit is no limit at all where instances run (a cgroup limit of 0 is
 * left unset and a tmpfs of size 0 is unbounded): `--memory=0` must not let an instance take the machine's RAM.
 */
function validateMemory(limits: Record<string, string> | undefined, prefix: string): void {
  const memory = limits?.["memory"];
  if (memory === undefined) return;
  const match = MEMORY_QUANTITY.exec(String(memory).trim());
  const bytes = match ? Number(match[1]) * (match[2] ? (MEMORY_UNITS[match[2]] ?? 1) : 1) : NaN;
  if (!(bytes >= MIN_MEMORY && bytes <= MAX_MEMORY))
    throw fieldViolation(
      `${prefix}.resources.limits.memory`,
      `Invalid value specified for memory '${String(memory)}'. Memory must be between 128Mi and 32Gi inclusive.`,
    );
}

function validateContainer(container: Container, index: number): Container {
  const prefix = `spec.template.spec.containers[${index}]`;
  validateMounts(container, prefix);
  if (typeof container?.image !== "string" || container.image.trim() === "") {
    throw fieldViolation(`${prefix}.image`, "An image is required.");
  }
  validateEnv(container.env ?? [], prefix);
  validateMemory(container.resources?.limits, prefix);
  const port = container.ports?.[0]?.containerPort ?? 8080;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw fieldViolation(`${prefix}.ports[0].containerPort`, "Port must be between 1 and 65535.");
  }
  return {
    ...container,
    name: container.name ?? "",
    ports: [{ name: container.ports?.[0]?.name ?? "http1", containerPort: port }],
    resources: { limits: { cpu: "1000m", memory: "512Mi", ...(container.resources?.limits ?? {}) } },
  };
}

function integerIn(value: unknown, min: number, max: number, field: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw fieldViolation(field, `Must be an integer between ${min} and ${max}.`);
  return n;
}

export function validateTemplate(template: unknown, defaultServiceAccount: string): RevisionTemplate {
  const t = template as RevisionTemplate | undefined;
  const containers = t?.spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0 || containers.length > 10) {
    throw fieldViolation("spec.template.spec.containers", "A revision needs between 1 and 10 containers.");
  }
  const annotations = t?.metadata?.annotations ?? {};
  const egress = annotations["run.googleapis.com/vpc-access-egress"];
  if (egress !== undefined && !EGRESS_VALUES.includes(egress)) {
    throw fieldViolation(
      "spec.template.metadata.annotations[run.googleapis.com/vpc-access-egress]",
      `Invalid VPC egress setting '${egress}'. Must be one of: ${EGRESS_VALUES.join(", ")}.`,
    );
  }
  validateVolumes(t?.spec?.volumes);
  for (const key of ["autoscaling.knative.dev/maxScale", "autoscaling.knative.dev/minScale"]) {
    if (annotations[key] !== undefined)
      integerIn(annotations[key], 0, 1000, `spec.template.metadata.annotations[${key}]`, 0);
  }
  return {
    metadata: { ...(t?.metadata ?? {}), annotations, labels: t?.metadata?.labels ?? {} },
    spec: {
      ...t!.spec,
      containerConcurrency: integerIn(
        t?.spec.containerConcurrency,
        1,
        1000,
        "spec.template.spec.containerConcurrency",
        DEFAULT_CONCURRENCY,
      ),
      timeoutSeconds: integerIn(
        t?.spec.timeoutSeconds,
        1,
        3600,
        "spec.template.spec.timeoutSeconds",
        DEFAULT_TIMEOUT_SECONDS,
      ),
      serviceAccountName: t?.spec.serviceAccountName || defaultServiceAccount,
      containers: containers.map(validateContainer),
    },
  };
}
