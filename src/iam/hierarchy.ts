// Resource hierarchy: a binding on a project applies to everything in it. Versions of a secret use the
// secret's policy. IAP's resources nest (project > iap_web > compute or cloud_run-REGION > services/NAME), each
// level with a policy of its own. Project ids are canonical here (callers map numbers to ids).

const IAP_WEB = /^(projects\/[^/]+)\/iap_web(?:\/([^/]+)(?:\/services\/[^/]+)?)?$/;

function iapAncestors(resource: string): string[] | undefined {
  const match = IAP_WEB.exec(resource);
  if (!match) return undefined;
  const [, project, type] = match as unknown as [string, string, string | undefined];
  const web = `${project}/iap_web`;
  const chain = [resource];
  if (type && resource !== `${web}/${type}`) chain.push(`${web}/${type}`);
  if (resource !== web) chain.push(web);
  chain.push(project);
  return chain;
}

export function ancestorsOf(resource: string): string[] {
  const parts = resource.split("/");
  if (parts[0] !== "projects" || parts.length < 2) return [resource];
  const project = `projects/${parts[1]}`;
  if (parts.length === 2) return [project];
  const iap = iapAncestors(resource);
  if (iap) return iap;
  const secretVersion = /^(projects\/[^/]+\/secrets\/[^/]+)\/versions\/[^/]+$/.exec(resource);
  const own = secretVersion?.[1] ?? resource;
  return own === project ? [project] : [own, project];
}
