// The secrets a revision uses, as Cloud Run reads them from its template: env vars (valueFrom.secretKeyRef)
// and files (secret volumes mounted at a path). Values never live in the template, only these references.
import type { RevisionTemplate } from "../run/types.js";

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

export function secretReferences(template: RevisionTemplate): SecretReference[] {
  const refs: SecretReference[] = [];
  const container = template.spec.containers[0];
  (container?.env ?? []).forEach((variable, i) => {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref)
      refs.push({
        kind: "env",
        target: variable.name,
        secret: ref.name,
        version: String(ref.key),
        field: `spec.template.spec.containers[0].env[${i}].value_from.secret_key_ref.name`,
      });
  });
  const volumes = new Map((template.spec.volumes ?? []).map((v, i) => [v.name, { volume: v, index: i }]));
  for (const mount of container?.volumeMounts ?? []) {
    const entry = volumes.get(mount.name);
    const source = entry?.volume.secret;
    if (!entry || !source) continue;
    const items = source.items && source.items.length > 0 ? source.items : [{ key: "latest", path: source.secretName }];
    items.forEach((item, j) =>
      refs.push({
        kind: "file",
        target: `${mount.mountPath.replace(/\/$/, "")}/${item.path}`,
        secret: source.secretName,
        version: String(item.key),
        field: `spec.template.spec.volumes[${entry.index}].secret.items[${j}].key`,
      }),
    );
  }
  return refs;
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
