// The Cloud Run Admin API v2 shape (google.cloud.run.v2.Service), which Google's client libraries speak, mapped
// onto the Knative form runguard stores (run/types.ts): v2 fields become the annotations and template fields that
// gcloud's v1 calls carry, so both APIs see one service.
import { invalidArgument, unimplemented } from "../../core/errors.js";
import { ingressOf, urlPartsOf, urlsOf } from "../../run/render.js";
import { trafficOf, trafficStatus } from "../../run/traffic.js";
import type { ServiceInput } from "../../run/services.js";
import type { Container, EnvVar, Ingress, StoredService, TrafficTarget, Volume, VolumeMount } from "../../run/types.js";

const INGRESS_TO_V2: Record<Ingress, string> = {
  all: "INGRESS_TRAFFIC_ALL",
  internal: "INGRESS_TRAFFIC_INTERNAL_ONLY",
  "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
};
const INGRESS_FROM_V2 = Object.fromEntries(Object.entries(INGRESS_TO_V2).map(([k, v]) => [v, k])) as Record<
  string,
  Ingress
>;

const INGRESS_BY_NUMBER: Record<number, Ingress> = {
  1: "all",
  2: "internal",
  3: "internal-and-cloud-load-balancing",
};

interface V2Container {
  name?: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: Array<{
    name?: string;
    value?: string;
    valueSource?: { secretKeyRef?: { secret?: string; version?: string } };
  }>;
  ports?: Array<{ name?: string; containerPort?: number }>;
  volumeMounts?: Array<{ name?: string; mountPath?: string; subPath?: string }>;
}

/** google.cloud.run.v2.Volume: runguard mounts secrets; other sources (Cloud SQL, emptyDir, GCS, NFS) it lacks. */
interface V2Volume {
  name?: string;
  secret?: {
    secret?: string;
    items?: Array<{ path?: string; version?: string; mode?: number }>;
    defaultMode?: number;
  };
  [source: string]: unknown;
}

/** google.cloud.run.v2.TrafficTarget; `type` by name or (enum-encoding=int) by number. */
interface V2TrafficTarget {
  type?: string | number;
  revision?: string;
  percent?: number;
  tag?: string;
}

const LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST";
const BY_REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION";
const ALLOCATION_TYPES: Record<string, typeof LATEST | typeof BY_REVISION | undefined> = {
  [LATEST]: LATEST,
  [BY_REVISION]: BY_REVISION,
  "1": LATEST,
  "2": BY_REVISION,
};

/** v2 traffic as Knative traffic targets; what is not a list is left for validateTraffic to refuse. */
function trafficFromV2(traffic: unknown): unknown {
  if (!Array.isArray(traffic)) return traffic;
  return traffic.map((raw: V2TrafficTarget | null, i) => {
    if (typeof raw !== "object" || raw === null) return raw;
    const unspecified =
      raw.type === undefined || raw.type === 0 || raw.type === "TRAFFIC_TARGET_ALLOCATION_TYPE_UNSPECIFIED";
    const type = unspecified ? (raw.revision ? BY_REVISION : LATEST) : ALLOCATION_TYPES[String(raw.type)];
    if (!type) throw invalidArgument(`Invalid value for field 'service.traffic[${i}].type': '${String(raw.type)}'.`);
    return {
      // A revision is named by its id or its full name (projects/P/locations/R/services/S/revisions/ID).
      ...(type === LATEST
        ? { latestRevision: true }
        : {
            revisionName: String(raw.revision ?? "")
              .split("/")
              .pop(),
          }),
      ...(raw.percent !== undefined ? { percent: raw.percent } : {}),
      ...(raw.tag !== undefined ? { tag: raw.tag } : {}),
    };
  });
}

const trafficToV2 = (target: TrafficTarget) => ({
  type: target.latestRevision ? LATEST : BY_REVISION,
  ...(target.revisionName ? { revision: target.revisionName } : {}),
  ...(target.percent ? { percent: target.percent } : {}),
  ...(target.tag ? { tag: target.tag } : {}),
});

export interface V2Service {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ingress?: string | number;
  invokerIamDisabled?: boolean;
  iapEnabled?: boolean;
  customAudiences?: string[];
  etag?: string;
  traffic?: unknown;
  template?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    serviceAccount?: string;
    containers?: V2Container[];
    volumes?: V2Volume[];
    scaling?: { minInstanceCount?: number; maxInstanceCount?: number };
    maxInstanceRequestConcurrency?: number;
    timeout?: string;
  };
}

/** v2 names a secret by id or full name; Knative takes the id (and the version as key). */
const secretIdOf = (secret: string | undefined) =>
  String(secret ?? "")
    .split("/")
    .pop() ?? "";

function envFromV2(env: NonNullable<V2Container["env"]>): EnvVar[] {
  return env.map((e) => {
    const ref = e.valueSource?.secretKeyRef;
    if (!ref) return { name: String(e.name ?? ""), value: String(e.value ?? "") };
    return {
      name: String(e.name ?? ""),
      valueFrom: { secretKeyRef: { name: secretIdOf(ref.secret), key: ref.version ?? "latest" } },
    };
  });
}

function volumeFromV2(volume: V2Volume, index: number): Volume {
  const source = volume.secret;
  if (!source) {
    const kind = Object.keys(volume).find((key) => key !== "name") ?? "an unknown source";
    throw unimplemented(`Volume '${String(volume.name ?? index)}': runguard mounts secret volumes only, not ${kind}.`);
  }
  return {
    name: String(volume.name ?? ""),
    secret: {
      secretName: secretIdOf(source.secret),
      // Without items, Cloud Run mounts the latest version under the secret's name, as Knative does.
      ...(source.items?.length
        ? {
            items: source.items.map((item) => ({
              key: item.version ?? "latest",
              path: String(item.path ?? ""),
              // proto3: a mode of 0 is the field left unset.
              ...(item.mode ? { mode: item.mode } : {}),
            })),
          }
        : {}),
      ...(source.defaultMode ? { defaultMode: source.defaultMode } : {}),
    },
  };
}

function mountFromV2(mount: NonNullable<V2Container["volumeMounts"]>[number]): VolumeMount {
  // Refused rather than ignored: mounting the whole volume where one path of it was asked for would put
  // files the service did not expect at its mount path.
  if (mount.subPath)
    throw unimplemented(
      `Volume mount '${String(mount.mountPath ?? "")}': runguard does not mount a subPath of a volume.`,
    );
  return { name: String(mount.name ?? ""), mountPath: String(mount.mountPath ?? "") };
}

function containerFromV2(c: V2Container): Container {
  return {
    ...(c.name ? { name: c.name } : {}),
    image: String(c.image ?? ""),
    ...(c.command ? { command: c.command } : {}),
    ...(c.args ? { args: c.args } : {}),
    ...(c.env ? { env: envFromV2(c.env) } : {}),
    ...(c.ports ? { ports: c.ports } : {}),
    ...(c.volumeMounts?.length ? { volumeMounts: c.volumeMounts.map(mountFromV2) } : {}),
  };
}

const seconds = (duration: string | undefined) => {
  if (duration === undefined) return undefined;
  const match = /^(\d+)(?:\.\d+)?s$/.exec(duration);
  if (!match) throw invalidArgument(`Invalid value for field 'template.timeout': '${duration}'.`);
  return Number(match[1]);
};

/** A v2 Service as the Knative input createService/replaceService take. */
export function knativeInputOf(name: string, service: V2Service): ServiceInput {
  const template = service.template ?? {};
  const annotations: Record<string, string> = { ...(service.annotations ?? {}) };
  if (service.ingress !== undefined) {
    // proto3 JSON: an enum arrives by name or, from clients asking for enum-encoding=int, by number.
    const ingress = INGRESS_FROM_V2[String(service.ingress)] ?? INGRESS_BY_NUMBER[Number(service.ingress)];
    if (!ingress) throw invalidArgument(`Invalid value for field 'service.ingress': '${service.ingress}'.`);
    annotations["run.googleapis.com/ingress"] = ingress;
  }
  if (service.invokerIamDisabled) annotations["run.googleapis.com/invoker-iam-disabled"] = "true";
  if (service.iapEnabled) annotations["run.googleapis.com/iap-enabled"] = "true";
  if (service.customAudiences?.length)
    annotations["run.googleapis.com/custom-audiences"] = JSON.stringify(service.customAudiences);
  const templateAnnotations: Record<string, string> = { ...(template.annotations ?? {}) };
  const scaling = template.scaling;
  if (scaling?.minInstanceCount !== undefined)
    templateAnnotations["autoscaling.knative.dev/minScale"] = String(scaling.minInstanceCount);
  if (scaling?.maxInstanceCount !== undefined)
    templateAnnotations["autoscaling.knative.dev/maxScale"] = String(scaling.maxInstanceCount);
  const timeoutSeconds = seconds(template.timeout);
  return {
    metadata: { name, annotations, labels: service.labels ?? {} },
    spec: {
      template: {
        metadata: { annotations: templateAnnotations, labels: template.labels ?? {} },
        spec: {
          containers: (template.containers ?? []).map(containerFromV2),
          ...(template.volumes?.length ? { volumes: template.volumes.map(volumeFromV2) } : {}),
          ...(template.maxInstanceRequestConcurrency !== undefined
            ? { containerConcurrency: template.maxInstanceRequestConcurrency }
            : {}),
          ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
          ...(template.serviceAccount ? { serviceAccountName: template.serviceAccount } : {}),
        },
      },
      ...(service.traffic !== undefined ? { traffic: trafficFromV2(service.traffic) } : {}),
    },
  };
}

function volumeToV2(volume: Volume) {
  const source = volume.secret;
  return {
    name: volume.name,
    ...(source
      ? {
          secret: {
            secret: source.secretName,
            ...(source.items?.length
              ? {
                  items: source.items.map((item) => ({
                    path: item.path,
                    version: item.key,
                    ...(item.mode !== undefined ? { mode: item.mode } : {}),
                  })),
                }
              : {}),
            ...(source.defaultMode !== undefined ? { defaultMode: source.defaultMode } : {}),
          },
        }
      : {}),
  };
}

function envToV2(env: EnvVar[] | undefined) {
  return (env ?? []).map((e) =>
    e.valueFrom?.secretKeyRef
      ? {
          name: e.name,
          valueSource: {
            secretKeyRef: { secret: e.valueFrom.secretKeyRef.name, version: e.valueFrom.secretKeyRef.key },
          },
        }
      : { name: e.name, value: e.value ?? "" },
  );
}

/** A stored service as google.cloud.run.v2.Service. */
export function renderV2Service(service: StoredService, projectNumber: string) {
  const spec = service.template.spec;
  const templateAnnotations = service.template.metadata?.annotations ?? {};
  const urls = urlsOf(service, projectNumber);
  const scale = (key: string) => {
    const value = templateAnnotations[`autoscaling.knative.dev/${key}`];
    return value === undefined ? undefined : Number(value);
  };
  const ready = service.ready.status === "True";
  return {
    name: service.resource,
    uid: service.uid,
    generation: String(service.generation),
    labels: service.labels,
    annotations: Object.fromEntries(
      Object.entries(service.annotations).filter(
        ([k]) => !k.startsWith("run.googleapis.com/") && !k.startsWith("serving.knative.dev/"),
      ),
    ),
    createTime: service.createTime,
    updateTime: service.ready.lastTransitionTime,
    creator: service.creator,
    lastModifier: service.lastModifier,
    ingress: INGRESS_TO_V2[ingressOf(service) as Ingress] ?? "INGRESS_TRAFFIC_ALL",
    launchStage: "GA",
    invokerIamDisabled: /^true$/i.test(service.annotations["run.googleapis.com/invoker-iam-disabled"] ?? ""),
    iapEnabled: /^true$/i.test(service.annotations["run.googleapis.com/iap-enabled"] ?? ""),
    template: {
      serviceAccount: spec.serviceAccountName ?? "",
      containers: spec.containers.map((c) => ({
        ...(c.name ? { name: c.name } : {}),
        image: c.image,
        ...(c.command ? { command: c.command } : {}),
        ...(c.args ? { args: c.args } : {}),
        env: envToV2(c.env),
        ports: c.ports ?? [{ name: "http1", containerPort: 8080 }],
        volumeMounts: (c.volumeMounts ?? []).map((m) => ({ name: m.name, mountPath: m.mountPath })),
      })),
      volumes: (spec.volumes ?? []).map(volumeToV2),
      scaling: {
        ...(scale("minScale") !== undefined ? { minInstanceCount: scale("minScale") } : {}),
        ...(scale("maxScale") !== undefined ? { maxInstanceCount: scale("maxScale") } : {}),
      },
      maxInstanceRequestConcurrency: spec.containerConcurrency ?? 80,
      timeout: `${spec.timeoutSeconds ?? 300}s`,
    },
    traffic: trafficOf(service).map(trafficToV2),
    trafficStatuses: trafficStatus(service, urlPartsOf(service, projectNumber)).map((status) => ({
      type: status.latestRevision ? LATEST : BY_REVISION,
      revision: status.revisionName,
      ...(status.percent ? { percent: status.percent } : {}),
      ...(status.tag ? { tag: status.tag, uri: status.url } : {}),
    })),
    uri: urls[urls.length - 1] ?? "",
    urls,
    latestCreatedRevision: `${service.resource.replace(/\/services\/[^/]+$/, "")}/services/${service.name}/revisions/${service.latestCreatedRevision}`,
    ...(service.latestReadyRevision
      ? {
          latestReadyRevision: `${service.resource.replace(/\/services\/[^/]+$/, "")}/services/${service.name}/revisions/${service.latestReadyRevision}`,
        }
      : {}),
    terminalCondition: {
      type: "Ready",
      state: ready ? "CONDITION_SUCCEEDED" : "CONDITION_FAILED",
      lastTransitionTime: service.ready.lastTransitionTime,
      ...(service.ready.message ? { message: service.ready.message } : {}),
    },
    observedGeneration: String(service.generation),
    reconciling: false,
    etag: `"${service.resourceVersion}"`,
  };
}
