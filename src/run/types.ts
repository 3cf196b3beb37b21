// Cloud Run services in the Knative serving.knative.dev/v1 shape that gcloud 528 speaks, and how runguard
// stores them: one document per service plus one immutable document per revision.

export interface SecretKeyRef {
  name: string;
  key: string;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: SecretKeyRef };
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

export interface Volume {
  name: string;
  secret?: { secretName: string; items?: Array<{ key: string; path: string; mode?: number }>; defaultMode?: number };
}

export interface Container {
  name?: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: Array<{ name?: string; containerPort?: number }>;
  resources?: { limits?: Record<string, string> };
  volumeMounts?: VolumeMount[];
}

export interface RevisionSpec {
  containerConcurrency?: number;
  timeoutSeconds?: number;
  serviceAccountName?: string;
  containers: Container[];
  volumes?: Volume[];
}

export interface RevisionTemplate {
  metadata?: { name?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: RevisionSpec;
}

export interface TrafficTarget {
  revisionName?: string;
  latestRevision?: boolean;
  percent?: number;
  tag?: string;
}

export type Ingress = "all" | "internal" | "internal-and-cloud-load-balancing";

export interface ReadyCondition {
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime: string;
}

export interface StoredService {
  resource: string;
  projectId: string;
  region: string;
  name: string;
  uid: string;
  generation: number;
  resourceVersion: string;
  createTime: string;
  creator: string;
  lastModifier: string;
  /** The 10-character hash of the non-deterministic URL. */
  urlHash: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  template: RevisionTemplate;
  traffic: TrafficTarget[];
  latestCreatedRevision: string;
  latestReadyRevision?: string;
  ready: ReadyCondition;
}

export interface StoredRevision {
  resource: string;
  name: string;
  service: string;
  projectId: string;
  region: string;
  generation: number;
  uid: string;
  createTime: string;
  template: RevisionTemplate;
  serviceAccountEmail: string;
  imageDigest: string;
}
