// google.cloud.secretmanager.v1 bodies. Labels follow Google's label rules, so that what is stored is what
// Secret Manager would have stored.
import { bytes, int64, message, repeated, string, stringMap, violate, wireBody } from "./proto.js";

const S = "google.cloud.secretmanager.v1.";

const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const MAX_LABELS = 64;
const MAX_ANNOTATION_BYTES = 16 * 1024;

const labels = () =>
  stringMap().superRefine((map, ctx) => {
    const entries = Object.entries(map);
    if (entries.length > MAX_LABELS) violate(ctx, `A secret can have at most ${MAX_LABELS} labels.`);
    entries.forEach(([key, value], index) => {
      if (!LABEL_KEY.test(key))
        violate(
          ctx,
          `Label key '${key.slice(0, 70)}' is invalid: keys start with a lowercase letter and have at most 63 lowercase letters, digits, '_' or '-'.`,
          [index, "key"],
        );
      if (!LABEL_VALUE.test(value))
        violate(
          ctx,
          `Label value '${value.slice(0, 70)}' is invalid: values have at most 63 lowercase letters, digits, '_' or '-'.`,
          [index, "value"],
        );
    });
  });

const annotations = () =>
  stringMap().superRefine((map, ctx) => {
    const size = Object.entries(map).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    if (size > MAX_ANNOTATION_BYTES)
      violate(ctx, `The annotations of a secret may total at most 16KiB; these are ${size} bytes.`);
  });

const customerManagedEncryption = message(`${S}CustomerManagedEncryption`, { kmsKeyName: string().optional() });

const replication = message(`${S}Replication`, {
  automatic: message(`${S}Replication.Automatic`, {
    customerManagedEncryption: customerManagedEncryption.optional(),
  }).optional(),
  userManaged: message(`${S}Replication.UserManaged`, {
    replicas: repeated(
      message(`${S}Replication.UserManaged.Replica`, {
        location: string().optional(),
        customerManagedEncryption: customerManagedEncryption.optional(),
      }),
    ).optional(),
  }).optional(),
});

const secret = message(`${S}Secret`, {
  name: string().optional(),
  replication: replication.optional(),
  createTime: string().optional(),
  labels: labels().optional(),
  topics: repeated(message(`${S}Topic`, { name: string().optional() })).optional(),
  expireTime: string().optional(),
  ttl: string().optional(),
  etag: string().optional(),
  rotation: message(`${S}Rotation`, {
    nextRotationTime: string().optional(),
    rotationPeriod: string().optional(),
  }).optional(),
  annotations: annotations().optional(),
  versionDestroyTtl: string().optional(),
});

export const createSecretRequest = wireBody(secret, "secret");
export const updateSecretRequest = wireBody(secret, "secret");

export const addSecretVersionRequest = wireBody(
  message(`${S}AddSecretVersionRequest`, {
    payload: message(`${S}SecretPayload`, { data: bytes().optional(), dataCrc32c: int64().optional() }).optional(),
  }),
);

/** Enable, disable and destroy take the version's etag (a plain string in Secret Manager, not bytes). */
export const versionStateRequest = wireBody(message(`${S}SecretVersionStateRequest`, { etag: string().optional() }));
