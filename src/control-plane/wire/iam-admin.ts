// google.iam.admin.v1 and google.iam.credentials.v1 request bodies.
import { bool, bytes, enumeration, message, repeated, string, wireBody } from "./proto.js";

const A = "google.iam.admin.v1.";

const serviceAccount = message(`${A}ServiceAccount`, {
  name: string().optional(),
  projectId: string().optional(),
  uniqueId: string().optional(),
  email: string().optional(),
  displayName: string().optional(),
  etag: bytes().optional(),
  description: string().optional(),
  oauth2ClientId: string().optional(),
  disabled: bool().optional(),
});

export const createServiceAccountRequest = wireBody(
  message(`${A}CreateServiceAccountRequest`, {
    accountId: string().optional(),
    serviceAccount: serviceAccount.optional(),
  }),
);

export const patchServiceAccountRequest = wireBody(
  message(`${A}PatchServiceAccountRequest`, {
    serviceAccount: serviceAccount.optional(),
    updateMask: string().optional(),
  }),
);

/** UpdateServiceAccount (PUT) takes the ServiceAccount itself as its body. */
export const updateServiceAccountRequest = wireBody(serviceAccount);

export const createServiceAccountKeyRequest = wireBody(
  message(`${A}CreateServiceAccountKeyRequest`, {
    privateKeyType: enumeration(`${A}ServiceAccountPrivateKeyType`, [
      "TYPE_UNSPECIFIED",
      "TYPE_PKCS12_FILE",
      "TYPE_GOOGLE_CREDENTIALS_FILE",
    ]).optional(),
    keyAlgorithm: enumeration(`${A}ServiceAccountKeyAlgorithm`, [
      "KEY_ALG_UNSPECIFIED",
      "KEY_ALG_RSA_1024",
      "KEY_ALG_RSA_2048",
    ]).optional(),
  }),
);

const C = "google.iam.credentials.v1.";

export const generateAccessTokenRequest = wireBody(
  message(`${C}GenerateAccessTokenRequest`, {
    delegates: repeated(string()).optional(),
    scope: repeated(string()).optional(),
    // A google.protobuf.Duration is a string such as "3600s" in JSON.
    lifetime: string().optional(),
  }),
);

export const generateIdTokenRequest = wireBody(
  message(`${C}GenerateIdTokenRequest`, {
    delegates: repeated(string()).optional(),
    audience: string().optional(),
    includeEmail: bool().optional(),
  }),
);
