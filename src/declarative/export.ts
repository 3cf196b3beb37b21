// exportState: the local project as a declared state, and renderState: that state as runguard.yaml. Secrets are
// exported by name, labels and policy only: their values stay in runguard (applying the file again gives each a
// placeholder, or the value of a valueFile the user adds).
import { stringify } from "yaml";
import { requireProject } from "../accounts/projects.js";
import { computeServiceAccountEmail } from "../accounts/projects.js";
import { listUsers } from "../accounts/users.js";
import { listGroups } from "../accounts/groups.js";
import type { ServiceAccount } from "../accounts/service-accounts.js";
import { readPolicy } from "../policies/policy-ops.js";
import { renderService } from "../run/render.js";
import type { ExportedService } from "../run/knative-export.js";
import type { StoredService } from "../run/types.js";
import type { StoredSecret } from "../secrets/types.js";
import type { PrivateResource, StoredConnector, StoredNetwork, StoredSubnetwork } from "../network/vpc-types.js";
import { lastSegment } from "../network/vpc.js";
import { normalizedBindings, type DeclarativePlatform } from "./context.js";
import { emptyState, type DeclaredPolicy, type DeclaredState } from "./schema.js";

/** What `gcloud run services describe --format=export` leaves out, and the URLs, which differ in every project. */
const NOT_EXPORTED = [
  "serving.knative.dev/creator",
  "serving.knative.dev/lastModifier",
  "run.googleapis.com/operation-id",
  "run.googleapis.com/urls",
];

/** A service as gcloud's export printer writes it: no status, no server-kept metadata. */
export function exportedService(service: StoredService, projectNumber: string): ExportedService {
  const rendered = renderService(service, projectNumber);
  const annotations = Object.fromEntries(
    Object.entries(rendered.metadata.annotations).filter(([key]) => !NOT_EXPORTED.includes(key)),
  );
  return {
    apiVersion: rendered.apiVersion,
    kind: "Service",
    metadata: {
      name: rendered.metadata.name,
      namespace: rendered.metadata.namespace,
      labels: rendered.metadata.labels,
      annotations,
    },
    spec: { template: rendered.spec.template, traffic: [...rendered.spec.traffic] },
  };
}

async function policyOf(deps: DeclarativePlatform, resource: string): Promise<DeclaredPolicy | undefined> {
  const bindings = normalizedBindings(await readPolicy(deps, resource));
  return bindings.length > 0 ? { bindings } : undefined;
}

export async function exportState(platform: DeclarativePlatform): Promise<DeclaredState> {
  const { store } = platform;
  const project = await requireProject(platform, platform.config.projectId);
  const { projectId, projectNumber } = project;
  const prefix = `projects/${projectId}/`;
  const state = emptyState();
  state.project = projectId;
  state.projectNumber = projectNumber;
  state.region = platform.config.region;
  state.users = (await listUsers(platform))
    .map((u) => u.email)
    .filter((email) => email !== platform.config.ownerEmail.toLowerCase())
    .sort();
  state.groups = (await listGroups(platform)).map((g) => ({
    email: g.email,
    ...(g.displayName ? { displayName: g.displayName } : {}),
    members: [...g.members].sort(),
  }));
  const computeDefault = computeServiceAccountEmail(projectNumber);
  for (const account of await store.list<ServiceAccount>("serviceAccount", `${prefix}serviceAccounts/`)) {
    if (account.serviceAgent || account.email === computeDefault) continue;
    const iamPolicy = await policyOf(platform, account.name);
    state.serviceAccounts.push({
      name: account.email.split("@")[0] ?? account.email,
      ...(account.displayName ? { displayName: account.displayName } : {}),
      ...(account.description ? { description: account.description } : {}),
      ...(iamPolicy ? { iamPolicy } : {}),
    });
  }
  state.iam = { bindings: (await policyOf(platform, `projects/${projectId}`))?.bindings ?? [] };
  for (const secret of await store.list<StoredSecret>("secret", `${prefix}secrets/`)) {
    const iamPolicy = await policyOf(platform, secret.resource);
    state.secrets.push({
      name: secret.secretId,
      ...(secret.labels && Object.keys(secret.labels).length > 0 ? { labels: secret.labels } : {}),
      ...(iamPolicy ? { iamPolicy } : {}),
    });
  }
  state.vpc = await exportVpc(platform, projectId);
  for (const service of await store.list<StoredService>("service", `${prefix}locations/`)) {
    const iamPolicy = await policyOf(platform, service.resource);
    state.services.push({ service: exportedService(service, projectNumber), ...(iamPolicy ? { iamPolicy } : {}) });
  }
  return state;
}

async function exportVpc(platform: DeclarativePlatform, projectId: string): Promise<DeclaredState["vpc"]> {
  const { store } = platform;
  const subnets = await store.list<StoredSubnetwork>("subnetwork", `projects/${projectId}/`);
  const networks = (await store.list<StoredNetwork>("network", `projects/${projectId}/`)).map((network) => ({
    name: network.name,
    subnets: subnets
      .filter((s) => s.network === network.resource)
      .map((s) => ({
        name: s.name,
        region: s.region,
        ipCidrRange: s.ipCidrRange,
        ...(s.privateIpGoogleAccess ? { privateIpGoogleAccess: true } : {}),
      })),
  }));
  const connectors = (await store.list<StoredConnector>("connector", `projects/${projectId}/`)).map((c) => ({
    name: c.name,
    region: c.region,
    ...(c.subnet ? { subnet: lastSegment(c.subnet) } : { network: lastSegment(c.network) }),
    ...(c.ipCidrRange ? { ipCidrRange: c.ipCidrRange } : {}),
  }));
  const addresses = (await store.list<PrivateResource>("privateResource"))
    .filter((r) => r.projectId === projectId)
    .map((r) => ({
      network: lastSegment(r.network),
      address: `${r.address}:${r.port}`,
      to: `${r.target.host}:${r.target.port}`,
      ...(r.description ? { description: r.description } : {}),
    }));
  return { networks, connectors, addresses };
}

/** The state as runguard.yaml: services inline, in gcloud's export shape, each with its policy. */
export function renderState(state: DeclaredState): string {
  const policy = (p: DeclaredPolicy | undefined) => (p?.bindings.length ? { bindings: p.bindings } : undefined);
  const document = {
    ...(state.project ? { project: state.project } : {}),
    ...(state.projectNumber ? { projectNumber: state.projectNumber } : {}),
    ...(state.region ? { region: state.region } : {}),
    users: state.users,
    groups: state.groups,
    serviceAccounts: state.serviceAccounts,
    iam: { bindings: state.iam.bindings },
    // Names, labels and policies only: never a value, even one applied from a file.
    secrets: state.secrets.map(({ name, labels, iamPolicy }) => ({
      name,
      ...(labels ? { labels } : {}),
      ...(policy(iamPolicy) ? { iamPolicy: policy(iamPolicy) } : {}),
    })),
    vpc: state.vpc,
    services: state.services.map((s) => ({
      service: s.service,
      ...(policy(s.iamPolicy) ? { iamPolicy: policy(s.iamPolicy) } : {}),
    })),
  };
  const header = [
    "# runguard state (runguard export): apply with `runguard apply -f FILE`; reference: docs/declarative.md.",
    "# Secrets are listed without values: each gets a generated placeholder unless you add `valueFile: PATH`.",
  ].join("\n");
  return `${header}\n${stringify(document, { lineWidth: 0 })}`;
}
