// Cloud Run Admin API bodies: the Knative google.cloud.run.v1.Service that gcloud sends, and the
// google.cloud.run.v2.Service of the client libraries. Both APIs bind the body to the `service` field.
// Traffic targets pass through unchecked here: the traffic code validates them.
import { bool, enumeration, int32, message, opaque, repeated, string, stringMap, wireBody } from "./proto.js";

const V1 = "google.cloud.run.v1.";
const V2 = "google.cloud.run.v2.";

const strings = () => repeated(string()).optional();

const objectMeta = message(`${V1}ObjectMeta`, {
  name: string().optional(),
  generateName: string().optional(),
  namespace: string().optional(),
  selfLink: string().optional(),
  uid: string().optional(),
  resourceVersion: string().optional(),
  generation: int32().optional(),
  creationTimestamp: string().optional(),
  labels: stringMap().optional(),
  annotations: stringMap().optional(),
});

const httpHeader = message(`${V1}HTTPHeader`, { name: string().optional(), value: string().optional() });

const probe = message(`${V1}Probe`, {
  initialDelaySeconds: int32().optional(),
  timeoutSeconds: int32().optional(),
  periodSeconds: int32().optional(),
  successThreshold: int32().optional(),
  failureThreshold: int32().optional(),
  exec: message(`${V1}ExecAction`, { command: strings() }).optional(),
  httpGet: message(`${V1}HTTPGetAction`, {
    path: string().optional(),
    host: string().optional(),
    scheme: string().optional(),
    httpHeaders: repeated(httpHeader).optional(),
    port: int32().optional(),
  }).optional(),
  tcpSocket: message(`${V1}TCPSocketAction`, { port: int32().optional(), host: string().optional() }).optional(),
  grpc: message(`${V1}GRPCAction`, { port: int32().optional(), service: string().optional() }).optional(),
});

const secretKeySelector = message(`${V1}SecretKeySelector`, {
  name: string().optional(),
  key: string().optional(),
  optional: bool().optional(),
});

const envVar = message(`${V1}EnvVar`, {
  name: string().optional(),
  value: string().optional(),
  valueFrom: message(`${V1}EnvVarSource`, { secretKeyRef: secretKeySelector.optional() }).optional(),
});

const resourceRequirements = message(`${V1}ResourceRequirements`, {
  limits: stringMap().optional(),
  requests: stringMap().optional(),
});

const container = message(`${V1}Container`, {
  name: string().optional(),
  image: string().optional(),
  command: strings(),
  args: strings(),
  env: repeated(envVar).optional(),
  resources: resourceRequirements.optional(),
  workingDir: string().optional(),
  ports: repeated(
    message(`${V1}ContainerPort`, {
      name: string().optional(),
      containerPort: int32().optional(),
      protocol: string().optional(),
    }),
  ).optional(),
  volumeMounts: repeated(
    message(`${V1}VolumeMount`, {
      name: string().optional(),
      readOnly: bool().optional(),
      mountPath: string().optional(),
      subPath: string().optional(),
    }),
  ).optional(),
  livenessProbe: probe.optional(),
  readinessProbe: probe.optional(),
  startupProbe: probe.optional(),
  terminationMessagePath: string().optional(),
  terminationMessagePolicy: string().optional(),
  imagePullPolicy: string().optional(),
});

const volume = message(`${V1}Volume`, {
  name: string().optional(),
  secret: message(`${V1}SecretVolumeSource`, {
    secretName: string().optional(),
    items: repeated(
      message(`${V1}KeyToPath`, { key: string().optional(), path: string().optional(), mode: int32().optional() }),
    ).optional(),
    defaultMode: int32().optional(),
    optional: bool().optional(),
  }).optional(),
});

const revisionTemplate = message(`${V1}RevisionTemplate`, {
  metadata: objectMeta.optional(),
  spec: message(`${V1}RevisionSpec`, {
    containerConcurrency: int32().optional(),
    timeoutSeconds: int32().optional(),
    serviceAccountName: string().optional(),
    containers: repeated(container).optional(),
    volumes: repeated(volume).optional(),
    nodeSelector: stringMap().optional(),
    runtimeClassName: string().optional(),
  }).optional(),
});

export const knativeService = wireBody(
  message(`${V1}Service`, {
    apiVersion: string().optional(),
    kind: string().optional(),
    metadata: objectMeta.optional(),
    spec: message(`${V1}ServiceSpec`, { template: revisionTemplate.optional(), traffic: opaque() }).optional(),
    status: opaque(),
  }),
  "service",
);

const v2Probe = message(`${V2}Probe`, {
  initialDelaySeconds: int32().optional(),
  timeoutSeconds: int32().optional(),
  periodSeconds: int32().optional(),
  failureThreshold: int32().optional(),
  httpGet: message(`${V2}HTTPGetAction`, {
    path: string().optional(),
    port: int32().optional(),
    httpHeaders: repeated(httpHeader).optional(),
  }).optional(),
  tcpSocket: message(`${V2}TCPSocketAction`, { port: int32().optional() }).optional(),
  grpc: message(`${V2}GRPCAction`, { port: int32().optional(), service: string().optional() }).optional(),
});

const v2Container = message(`${V2}Container`, {
  name: string().optional(),
  image: string().optional(),
  command: strings(),
  args: strings(),
  env: repeated(
    message(`${V2}EnvVar`, {
      name: string().optional(),
      value: string().optional(),
      valueSource: message(`${V2}EnvVarSource`, {
        secretKeyRef: message(`${V2}SecretKeySelector`, {
          secret: string().optional(),
          version: string().optional(),
        }).optional(),
      }).optional(),
    }),
  ).optional(),
  resources: message(`${V2}ResourceRequirements`, {
    limits: stringMap().optional(),
    cpuIdle: bool().optional(),
    startupCpuBoost: bool().optional(),
  }).optional(),
  ports: repeated(
    message(`${V2}ContainerPort`, { name: string().optional(), containerPort: int32().optional() }),
  ).optional(),
  volumeMounts: repeated(
    message(`${V2}VolumeMount`, {
      name: string().optional(),
      mountPath: string().optional(),
      subPath: string().optional(),
    }),
  ).optional(),
  workingDir: string().optional(),
  livenessProbe: v2Probe.optional(),
  startupProbe: v2Probe.optional(),
  dependsOn: strings(),
});

const v2Volume = message(`${V2}Volume`, {
  name: string().optional(),
  secret: message(`${V2}SecretVolumeSource`, {
    secret: string().optional(),
    items: repeated(
      message(`${V2}VersionToPath`, {
        path: string().optional(),
        version: string().optional(),
        mode: int32().optional(),
      }),
    ).optional(),
    defaultMode: int32().optional(),
  }).optional(),
  // Sources runguard does not mount: kept so that the service is refused with UNIMPLEMENTED naming them.
  cloudSqlInstance: opaque(),
  emptyDir: opaque(),
  gcs: opaque(),
  nfs: opaque(),
});

export const v2Service = wireBody(
  message(`${V2}Service`, {
    name: string().optional(),
    description: string().optional(),
    labels: stringMap().optional(),
    annotations: stringMap().optional(),
    client: string().optional(),
    clientVersion: string().optional(),
    ingress: enumeration(`${V2}IngressTraffic`, [
      "INGRESS_TRAFFIC_UNSPECIFIED",
      "INGRESS_TRAFFIC_ALL",
      "INGRESS_TRAFFIC_INTERNAL_ONLY",
      "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
      "INGRESS_TRAFFIC_NONE",
    ]).optional(),
    launchStage: enumeration("google.api.LaunchStage", [
      "LAUNCH_STAGE_UNSPECIFIED",
      "EARLY_ACCESS",
      "ALPHA",
      "BETA",
      "GA",
      "DEPRECATED",
      "UNIMPLEMENTED",
      "PRELAUNCH",
    ]).optional(),
    template: message(`${V2}RevisionTemplate`, {
      revision: string().optional(),
      labels: stringMap().optional(),
      annotations: stringMap().optional(),
      scaling: message(`${V2}RevisionScaling`, {
        minInstanceCount: int32().optional(),
        maxInstanceCount: int32().optional(),
      }).optional(),
      timeout: string().optional(),
      serviceAccount: string().optional(),
      containers: repeated(v2Container).optional(),
      volumes: repeated(v2Volume).optional(),
      maxInstanceRequestConcurrency: int32().optional(),
    }).optional(),
    traffic: opaque(),
    invokerIamDisabled: bool().optional(),
    iapEnabled: bool().optional(),
    customAudiences: strings(),
    etag: string().optional(),
  }),
  "service",
);
