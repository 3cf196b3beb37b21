// Resource hierarchy: a binding on a project applies to everything in it. Versions of a secret use the
// secret's policy. Project ids are canonical here (callers map numbers to ids).

export function ancestorsOf(resource: string): string[] {
  const parts = resource.split("/");
  if (parts[0] !== "projects" || parts.length < 2) return [resource];
  const project = `projects/${parts[1]}`;
  if (parts.length === 2) return [project];
  const secretVersion = /^(projects\/[^/]+\/secrets\/[^/]+)\/versions\/[^/]+$/.exec(resource);
  const own = secretVersion?.[1] ?? resource;
  return own === project ? [project] : [own, project];
}
