// Applying secrets and VPC resources. A secret's value comes from its valueFile (or a value a program or
// `import --secret-values` gave); otherwise a generated placeholder is its first version. Values are never
// reported: a change says where the value came from, not what it is.
import { randomBytes } from "node:crypto";
import { failedPrecondition, invalidArgument } from "../core/errors.js";
import {
  addVersion,
  createSecret,
  listVersions,
  openPayload,
  secretResource,
  updateSecret,
} from "../secrets/secret-manager.js";
import type { StoredSecret } from "../secrets/types.js";
import {
  connectorResource,
  createConnector,
  createNetwork,
  createSubnetwork,
  networkResource,
  requireNetwork,
  subnetResource,
} from "../network/vpc.js";
import { parsePrivateResource } from "../network/private-resources.js";
import type { PrivateResource, StoredConnector, StoredSubnetwork } from "../network/vpc-types.js";
import { canonical, type Session } from "./context.js";
import { applyPolicy } from "./apply-identity.js";
import type { DeclaredSecret, DeclaredState } from "./schema.js";
import { readSecretValueFile } from "./files.js";

/** Where a secret's value comes from, read only now: the value itself never leaves this function's callers. */
async function declaredValue(secret: DeclaredSecret): Promise<{ value: Buffer; from: string } | undefined> {
  if (secret.value !== undefined) return { value: Buffer.from(secret.value, "utf8"), from: "the given value" };
  if (secret.valueFile === undefined) return undefined;
  // Bounded and regular-file-only here too: a program's state (the npm API) reaches apply without loadState.
  const value = await readSecretValueFile(secret.valueFile, `secrets: ${secret.name}: valueFile`);
  if (value.length === 0) throw invalidArgument(`secrets: ${secret.name}: valueFile ${secret.valueFile} is empty.`);
  return { value, from: `valueFile ${secret.valueFile}` };
}

export async function applySecrets(session: Session, secrets: readonly DeclaredSecret[]): Promise<void> {
  const scope = { projectId: session.project.projectId, projectNumber: session.project.projectNumber };
  for (const declared of secrets) {
    const resource = secretResource(scope, declared.name);
    const existing = await session.deps.store.get<StoredSecret>("secret", resource);
    let secret: StoredSecret;
    if (!existing) {
      secret = await createSecret(session.deps, session.ctx, scope, declared.name, {
        replication: { automatic: {} },
        ...(declared.labels ? { labels: declared.labels } : {}),
      });
      session.record({ action: "created", kind: "secret", name: declared.name });
    } else if (declared.labels && canonical(declared.labels) !== canonical(existing.labels ?? {})) {
      secret = await updateSecret(session.deps, existing, { labels: declared.labels }, "labels");
      session.record({ action: "updated", kind: "secret", name: declared.name, detail: "labels" });
    } else {
      secret = existing;
      session.same();
    }
    await applySecretValue(session, secret, declared);
    if (declared.iamPolicy)
      await applyPolicy(session, resource, declared.iamPolicy, "secretmanager.secrets.setIamPolicy");
  }
}

async function applySecretValue(session: Session, secret: StoredSecret, declared: DeclaredSecret): Promise<void> {
  const latest = (await listVersions(session.deps, secret))[0];
  const wanted = await declaredValue(declared);
  if (!wanted) {
    if (latest) return;
    const placeholder = `runguard-placeholder-${randomBytes(12).toString("hex")}`;
    const version = await addVersion(session.deps, secret, { data: Buffer.from(placeholder).toString("base64") });
    session.record({
      action: "created",
      kind: "secretVersion",
      name: `${declared.name}/versions/${version.version}`,
      detail: "a generated placeholder",
    });
    return;
  }
  const current =
    latest?.state === "ENABLED" ? openPayload(session.deps, latest, `${declared.name}/versions/latest`) : undefined;
  if (current?.equals(wanted.value)) return;
  const version = await addVersion(session.deps, secret, { data: wanted.value.toString("base64") });
  session.record({
    action: "created",
    kind: "secretVersion",
    name: `${declared.name}/versions/${version.version}`,
    detail: `from ${wanted.from}`,
  });
}

export async function applyVpc(session: Session, vpc: DeclaredState["vpc"]): Promise<void> {
  const { deps, ctx } = session;
  const { projectId } = session.project;
  for (const network of vpc.networks) {
    const resource = networkResource(projectId, network.name);
    if (await deps.store.get("network", resource)) session.same();
    else {
      await createNetwork(deps, ctx, projectId, { name: network.name });
      session.record({ action: "created", kind: "network", name: network.name });
    }
    for (const subnet of network.subnets) {
      const region = subnet.region ?? session.region;
      const existing = await deps.store.get<StoredSubnetwork>(
        "subnetwork",
        subnetResource(projectId, region, subnet.name),
      );
      if (existing) {
        if (existing.ipCidrRange !== subnet.ipCidrRange)
          throw failedPrecondition(
            `vpc: subnet ${subnet.name} exists with range ${existing.ipCidrRange}, not ${subnet.ipCidrRange}: ranges are not changed in place (runguard reset, then apply).`,
          );
        session.same();
        continue;
      }
      await createSubnetwork(deps, ctx, projectId, region, {
        name: subnet.name,
        network: network.name,
        ipCidrRange: subnet.ipCidrRange,
        privateIpGoogleAccess: subnet.privateIpGoogleAccess === true,
      });
      session.record({ action: "created", kind: "subnetwork", name: `${region}/${subnet.name}` });
    }
  }
  for (const connector of vpc.connectors) {
    const region = connector.region ?? session.region;
    if (await deps.store.get<StoredConnector>("connector", connectorResource(projectId, region, connector.name))) {
      session.same();
      continue;
    }
    await createConnector(deps, ctx, projectId, region, connector.name, {
      ...(connector.network ? { network: connector.network } : {}),
      ...(connector.ipCidrRange ? { ipCidrRange: connector.ipCidrRange } : {}),
      ...(connector.subnet ? { subnet: { name: connector.subnet } } : {}),
    });
    session.record({ action: "created", kind: "connector", name: `${region}/${connector.name}` });
  }
  for (const address of vpc.addresses) {
    const network = await requireNetwork(deps, ctx, projectId, address.network, "compute.networks.update");
    const wanted = parsePrivateResource(projectId, network.resource, address.address, address.to, address.description);
    const existing = await deps.store.get<PrivateResource>("privateResource", wanted.resource);
    if (existing && canonical(existing) === canonical(wanted)) {
      session.same();
      continue;
    }
    await deps.store.transact(async (tx) => tx.put("privateResource", wanted.resource, wanted));
    session.record({
      action: existing ? "updated" : "created",
      kind: "address",
      name: `${address.network}/${address.address}`,
      detail: `→ ${address.to}`,
    });
  }
}
