// A reference from a revision to a secret version: an env var (valueFrom.secretKeyRef) or a file in a secret
// volume. Values never live in the template, only these references.
export interface SecretReference {
  kind: "env" | "file";
  /** The env var name, or the file's absolute path inside the container. */
  target: string;
  /** The secret id (same project) or projects/P/secrets/S. */
  secret: string;
  /** "latest" or a version number. */
  version: string;
  /** The template field, for error messages. */
  field: string;
}

/** `name` or `projects/P/secrets/name` → the owning project (default: the service's) and the secret id. */
export function secretLocation(
  reference: SecretReference,
  defaultProject: string,
): { project: string; secretId: string } {
  const match = /^projects\/([^/]+)\/secrets\/([^/:]+)$/.exec(reference.secret);
  return match
    ? { project: match[1] ?? defaultProject, secretId: match[2] ?? "" }
    : { project: defaultProject, secretId: reference.secret };
}
