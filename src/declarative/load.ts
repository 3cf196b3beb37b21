// loadState: a state file (`runguard.yaml`) or a directory of the files a team already keeps (Knative YAML, IAM
// policy JSON, gcloud's lists; see export-files.ts). Every problem is INVALID_ARGUMENT naming the file and field.
import { stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { invalidArgument } from "../core/errors.js";
import { parseServiceExports } from "../run/knative-export.js";
import { emptyState, parseStateFile, type DeclaredService, type DeclaredState } from "./schema.js";
import {
  MAX_SECRET_VALUE_BYTES,
  STATE_FILE_NAME,
  containedFile,
  parsePolicyJson,
  parseYaml,
  readText,
} from "./files.js";
import { checkDeclaredService } from "./knative-schema.js";
import { readExportDirectory } from "./export-files.js";

/** Reads a state file and every file it names (paths relative to it, and inside its directory). */
export async function loadStateFile(path: string): Promise<DeclaredState> {
  const source = resolve(path);
  return loadStateDocument(parseYaml(await readText(source), source), source, dirname(source));
}

/**
 * A state document already parsed (an object in runguard.yaml's shape, as the npm API's `apply` takes it),
 * checked by the same schema; `source` names it in errors, and the files it names are relative to `base`.
 */
export async function loadStateDocument(document: unknown, source: string, base: string): Promise<DeclaredState> {
  const file = parseStateFile(document, source);
  const services: DeclaredService[] = [];
  for (const [index, entry] of file.services.entries()) {
    const where = `${source}: services[${index}]`;
    if (!("file" in entry) && !("service" in entry)) {
      checkDeclaredService(entry, source, `services[${index}]`);
      services.push({ service: entry });
      continue;
    }
    const policyFile = entry.iamPolicyFile
      ? await containedFile(base, entry.iamPolicyFile, `${where}.iamPolicyFile`)
      : undefined;
    const iamPolicy =
      entry.iamPolicy ??
      (policyFile ? parsePolicyJson(await readText(policyFile), `${where}.iamPolicyFile`) : undefined);
    const exportFile = "file" in entry ? await containedFile(base, entry.file, `${where}.file`) : undefined;
    const found = exportFile
      ? parseServiceExports(await readText(exportFile), exportFile)
      : "service" in entry
        ? [entry.service]
        : [];
    for (const service of found)
      if (exportFile) checkDeclaredService(service, exportFile, "");
      else checkDeclaredService(service, source, `services[${index}].service`);
    if (found.length === 0)
      throw invalidArgument(`${where}.file: ${exportFile ?? ""} holds no Knative Service (kind: Service).`);
    if (iamPolicy && found.length > 1)
      throw invalidArgument(
        `${where}: an iamPolicy belongs to one service, and ${exportFile ?? ""} holds ${found.length}.`,
      );
    for (const service of found) services.push({ service, ...(iamPolicy ? { iamPolicy } : {}) });
  }
  const secrets = [];
  for (const [index, secret] of file.secrets.entries()) {
    if (secret.valueFile === undefined) {
      secrets.push(secret);
      continue;
    }
    const where = `${source}: secrets[${index}].valueFile`;
    const valueFile = await containedFile(base, secret.valueFile, where);
    if ((await stat(valueFile)).size > MAX_SECRET_VALUE_BYTES)
      throw invalidArgument(
        `${where}: ${valueFile} is larger than ${MAX_SECRET_VALUE_BYTES.toLocaleString("en-US")} bytes, Secret Manager's limit for a secret value.`,
      );
    secrets.push({ ...secret, valueFile });
  }
  return {
    ...emptyState(),
    ...(file.project ? { project: file.project } : {}),
    ...(file.projectNumber !== undefined ? { projectNumber: String(file.projectNumber) } : {}),
    ...(file.region ? { region: file.region } : {}),
    users: file.users,
    groups: file.groups,
    serviceAccounts: file.serviceAccounts,
    iam: { bindings: file.iam?.bindings ?? [] },
    secrets,
    vpc: {
      networks: file.vpc?.networks ?? [],
      connectors: file.vpc?.connectors ?? [],
      addresses: file.vpc?.addresses ?? [],
    },
    services,
  };
}

/**
 * The declared state at `path`: a state file, or a directory (its runguard.yaml, if any, plus the exported files
 * beside it).
 */
export async function loadState(path: string): Promise<DeclaredState> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw invalidArgument(`${path}: no such file or directory.`);
  if (!info.isDirectory()) return loadStateFile(path);
  const stateFile = join(path, STATE_FILE_NAME);
  const base = existsSync(stateFile) ? await loadStateFile(stateFile) : emptyState();
  return readExportDirectory(path, base);
}
