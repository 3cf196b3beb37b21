// A directory of files exported from a real project, as gcloud prints them (the inputs `runguard audit` reads
// offline), read into a declared state. What each file is comes from its content, and for IAM policies (which do
// not name their resource) from its name:
//   *.yaml / *.yml                      gcloud run services describe S --format=export (one or more services)
//   project-policy.json                 gcloud projects get-iam-policy P --format=json
//   S-policy.json                       gcloud run services get-iam-policy S --format=json
//   secret-NAME-policy.json             gcloud secrets get-iam-policy NAME --format=json
//   sa-ID-policy.json                   gcloud iam service-accounts get-iam-policy ID@… --format=json
//   group-EMAIL-members.json            gcloud identity groups memberships list --group-email=EMAIL --format=json
//   any other *.json, by its content    gcloud projects describe, iam service-accounts list, secrets list,
//                                       compute networks list, compute networks subnets list,
//                                       compute networks vpc-access connectors list (all --format=json)
import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { invalidArgument } from "../core/errors.js";
import { LOCATION_LABEL, parseServiceExports } from "../run/knative-export.js";
import type { DeclaredPolicy, DeclaredState } from "./schema.js";
import { STATE_FILE_NAME, parseJson, parsePolicyJson, readText } from "./files.js";
import { checkDeclaredService } from "./knative-schema.js";

type Json = Record<string, unknown>;

const lastSegment = (value: unknown) =>
  String(value ?? "")
    .split("/")
    .pop() ?? "";
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

interface Collected {
  state: DeclaredState;
  servicePolicies: Map<string, DeclaredPolicy>;
  projectIds: Set<string>;
  projectNumbers: Set<string>;
  /** Names of the services the directory's own YAML files hold (not its runguard.yaml's). */
  scannedServices: string[];
}

/** Records the project a list names in its resource names (`projects/X/…`): an id or a number. */
function noteProject(found: Collected, name: unknown): void {
  const project = /^projects\/([^/]+)\//.exec(String(name ?? ""))?.[1];
  if (!project) return;
  (/^\d+$/.test(project) ? found.projectNumbers : found.projectIds).add(project);
}

/** One of gcloud's JSON lists, recognised by what its items hold. */
function readList(items: Json[], found: Collected, source: string): void {
  const { state } = found;
  const first = items[0];
  if (!first) return;
  if (typeof first["email"] === "string" && String(first["name"] ?? "").includes("/serviceAccounts/")) {
    for (const item of items) {
      noteProject(found, item["name"]);
      const email = String(item["email"]);
      // Only user-managed accounts (ID@PROJECT.iam.gserviceaccount.com) can be created; the default compute
      // account exists in every project already.
      if (!email.endsWith(".iam.gserviceaccount.com")) continue;
      state.serviceAccounts.push({
        name: email,
        ...(typeof item["displayName"] === "string" ? { displayName: item["displayName"] } : {}),
        ...(typeof item["description"] === "string" ? { description: item["description"] } : {}),
      });
    }
  } else if (/^projects\/[^/]+\/secrets\/[^/]+$/.test(String(first["name"] ?? ""))) {
    for (const item of items) {
      noteProject(found, item["name"]);
      const labels = isObject(item["labels"]) ? (item["labels"] as Record<string, string>) : undefined;
      state.secrets.push({ name: lastSegment(item["name"]), ...(labels ? { labels } : {}) });
    }
  } else if (first["kind"] === "compute#network") {
    for (const item of items) state.vpc.networks.push({ name: String(item["name"]), subnets: [] });
  } else if (first["kind"] === "compute#subnetwork") {
    for (const item of items) {
      const network = lastSegment(item["network"]);
      let declared = state.vpc.networks.find((n) => n.name === network);
      if (!declared) state.vpc.networks.push((declared = { name: network, subnets: [] }));
      declared.subnets.push({
        name: String(item["name"]),
        region: lastSegment(item["region"]),
        ipCidrRange: String(item["ipCidrRange"]),
        ...(item["privateIpGoogleAccess"] === true ? { privateIpGoogleAccess: true } : {}),
      });
    }
  } else if (/^projects\/[^/]+\/locations\/[^/]+\/connectors\/[^/]+$/.test(String(first["name"] ?? ""))) {
    for (const item of items) {
      noteProject(found, item["name"]);
      const [, , , region = "", , name = ""] = String(item["name"]).split("/");
      const subnet = isObject(item["subnet"]) ? String(item["subnet"]["name"] ?? "") : "";
      state.vpc.connectors.push({
        name,
        region,
        ...(item["network"] ? { network: lastSegment(item["network"]) } : {}),
        ...(item["ipCidrRange"] ? { ipCidrRange: String(item["ipCidrRange"]) } : {}),
        ...(subnet ? { subnet } : {}),
      });
    }
  } else {
    throw invalidArgument(
      `${source}: a JSON list runguard does not know (see docs/declarative.md for the files it reads).`,
    );
  }
}

function readGroupMembers(email: string, items: unknown, source: string): DeclaredState["groups"][number] {
  if (!Array.isArray(items)) throw invalidArgument(`${source}: expected the JSON list of memberships.`);
  const members = items.map((item: unknown) => {
    const key = isObject(item) && isObject(item["preferredMemberKey"]) ? item["preferredMemberKey"]["id"] : undefined;
    if (typeof key !== "string") throw invalidArgument(`${source}: a membership without preferredMemberKey.id.`);
    const type = isObject(item) ? item["type"] : undefined;
    if (type === "GROUP") return `group:${key}`;
    if (type === "SERVICE_ACCOUNT" || key.endsWith(".gserviceaccount.com")) return `serviceAccount:${key}`;
    return `user:${key}`;
  });
  return { email, members };
}

async function readFileInto(dir: string, file: string, found: Collected): Promise<void> {
  const path = join(dir, file);
  const { state } = found;
  if (/\.ya?ml$/.test(file)) {
    const services = parseServiceExports(await readText(path), path);
    if (services.length === 0) throw invalidArgument(`${path}: holds no Knative Service (kind: Service).`);
    for (const service of services) {
      checkDeclaredService(service, path, "");
      found.scannedServices.push(service.metadata.name);
      if (service.metadata.namespace)
        (/^\d+$/.test(service.metadata.namespace) ? found.projectNumbers : found.projectIds).add(
          service.metadata.namespace,
        );
      state.services.push({ service });
    }
    return;
  }
  const text = await readText(path);
  const policyOf = /^(?:(project)|secret-(.+)|sa-(.+)|(.+))-policy\.json$/.exec(file);
  if (policyOf) {
    const policy = parsePolicyJson(text, path);
    const [, project, secret, account, service] = policyOf;
    if (project) state.iam.bindings.push(...policy.bindings);
    else if (secret) found.state.secrets.push({ name: secret, iamPolicy: policy });
    else if (account) found.state.serviceAccounts.push({ name: account, iamPolicy: policy });
    else if (service) found.servicePolicies.set(service, policy);
    return;
  }
  const value = parseJson(text, path);
  const group = /^group-(.+)-members\.json$/.exec(file)?.[1];
  if (group) state.groups.push(readGroupMembers(group, value, path));
  else if (isObject(value) && typeof value["projectId"] === "string" && value["projectNumber"] !== undefined) {
    found.projectIds.add(value["projectId"]);
    found.projectNumbers.add(String(value["projectNumber"]));
  } else if (Array.isArray(value)) readList(value.filter(isObject), found, path);
  else
    throw invalidArgument(
      `${path}: a JSON file runguard does not know (see docs/declarative.md for the files it reads).`,
    );
}

/** Entries named twice (a list and a policy file, say) become one, later fields filling in; the fuller name stays. */
function mergeByName<T extends { name: string }>(items: T[], keyOf: (name: string) => string = (n) => n): T[] {
  const merged = new Map<string, T>();
  for (const item of items) {
    const before = merged.get(keyOf(item.name));
    const name = before && before.name.length > item.name.length ? before.name : item.name;
    merged.set(keyOf(item.name), { ...before, ...item, name });
  }
  return [...merged.values()];
}

function onlyOne(values: Set<string>, what: string, dir: string): string | undefined {
  if (values.size > 1)
    throw invalidArgument(`${dir}: files from more than one project (${what}s ${[...values].join(", ")}).`);
  return [...values][0];
}

/**
 * A policy file's name says whose policy it is, and a service named `project`, `secret-X` or `sa-X` gives its
 * policy the name of the project's, a secret's or an account's: guessing would grant the service's members on the
 * project (allUsers as run.invoker on every service) or on another resource, so such a pair is refused.
 */
function refuseAmbiguousPolicies(dir: string, files: readonly string[], services: readonly string[]): void {
  for (const name of services) {
    const owner =
      name === "project"
        ? "the project's policy"
        : name.startsWith("secret-")
          ? `secret ${name.slice("secret-".length)}'s policy`
          : name.startsWith("sa-")
            ? `service account ${name.slice("sa-".length)}'s policy`
            : undefined;
    const file = `${name}-policy.json`;
    if (!owner || !files.includes(file)) continue;
    throw invalidArgument(
      `${join(dir, file)}: ambiguous: it could be ${owner} or the policy of service ${name} (in this directory's YAML). ` +
        `Move the service's YAML and, if the file is its policy, the file too into a subdirectory, and name them in ${join(dir, STATE_FILE_NAME)}: ` +
        `services: [{file: SUBDIR/${name}.yaml, iamPolicyFile: SUBDIR/${file}}].`,
    );
  }
}

/** Adds what the directory's exported files declare to `base` (its runguard.yaml, or an empty state). */
export async function readExportDirectory(dir: string, base: DeclaredState): Promise<DeclaredState> {
  const found: Collected = {
    state: base,
    servicePolicies: new Map(),
    projectIds: new Set(),
    projectNumbers: new Set(),
    scannedServices: [],
  };
  const files = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && /\.(ya?ml|json)$/.test(entry.name) && entry.name !== STATE_FILE_NAME)
    .map((entry) => entry.name)
    .sort();
  for (const file of files) await readFileInto(dir, file, found);
  refuseAmbiguousPolicies(dir, files, found.scannedServices);
  const { state } = found;
  for (const [name, policy] of found.servicePolicies) {
    const service = state.services.find((s) => s.service.metadata.name === name);
    if (!service)
      throw invalidArgument(
        `${join(dir, `${name}-policy.json`)}: no service ${name} in ${basename(dir)}'s YAML files.`,
      );
    service.iamPolicy = policy;
  }
  const projectOfAccount = (email: string | undefined) =>
    /@([^.@]+)\.iam\.gserviceaccount\.com$/.exec(email ?? "")?.[1];
  for (const account of state.serviceAccounts) {
    const project = projectOfAccount(account.name);
    if (project) found.projectIds.add(project);
  }
  // No list named the project: the accounts the services run as do (a cross-project one makes this ambiguous).
  if (found.projectIds.size === 0)
    for (const { service } of state.services) {
      const project = projectOfAccount(service.spec.template.spec?.serviceAccountName);
      if (project) found.projectIds.add(project);
    }
  const projectId = state.project ?? onlyOne(found.projectIds, "project id", dir);
  const projectNumber = state.projectNumber ?? onlyOne(found.projectNumbers, "project number", dir);
  const region = state.region ?? state.services.map((s) => s.service.metadata.labels?.[LOCATION_LABEL]).find(Boolean);
  return {
    ...state,
    ...(projectId ? { project: projectId } : {}),
    ...(projectNumber ? { projectNumber } : {}),
    ...(region ? { region } : {}),
    serviceAccounts: mergeByName(state.serviceAccounts, (name) => name.split("@")[0] ?? name),
    secrets: mergeByName(state.secrets),
  };
}
