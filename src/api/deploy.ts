// deploy() and the invoker bindings of start()'s handle: Knative Service bodies and IAM policies sent to the Run
// Admin API, exactly what `gcloud run deploy` and `gcloud run services add-iam-policy-binding` send.
import { resolve } from "node:path";
import type { Endpoints } from "../app/runguard.js";
import type { Store } from "../store/store.js";
import { addImage } from "../run/images.js";
import { ApiError, invalidArgument } from "../core/errors.js";
import type { AdminClient } from "./admin-client.js";

export interface DeployOptions {
  /** The service's name (lowercase letters, digits, hyphens). */
  service: string;
  /** An image in the local container store or runguard's catalogue (`runguard images add`)… */
  image?: string;
  /** …or a command run as the service (argv; an absolute program path, e.g. process.execPath). It must listen on $PORT. */
  command?: string[];
  /** The command's working directory (default: the current one). */
  dir?: string;
  /** Anyone may call it (allUsers gets roles/run.invoker), as `--allow-unauthenticated`. Default false. */
  allowUnauthenticated?: boolean;
  /** The runtime service account: an email, or an account id of this project. Created if it does not exist. */
  serviceAccount?: string;
  env?: Record<string, string>;
  ingress?: "all" | "internal" | "internal-and-cloud-load-balancing";
}

export interface DeployedService {
  name: string;
  /** https://NAME-PROJECT_NUMBER.REGION.run.app: the audience of ID tokens for it. */
  url: string;
  urls: string[];
  /** Its own loopback port: requests there need no Host header. */
  localUrl: string;
  /** The runtime service account's email. */
  serviceAccount: string;
}

export interface ServiceBinding {
  service: string;
  role: string;
  /** `serviceAccount:EMAIL`, `user:EMAIL`, `group:EMAIL`, `allUsers`… */
  member: string;
  region?: string;
}

interface Policy {
  bindings?: { role: string; members: string[] }[];
  etag?: string;
}

const ALL_USERS_INVOKER = { role: "roles/run.invoker", member: "allUsers" };

export function createDeployer(deps: {
  admin: AdminClient;
  store: Store;
  endpoints: Endpoints;
  localUrlOf(resource: string): string | undefined;
}) {
  const { admin, endpoints } = deps;
  const project = endpoints.projectId;
  const servicePath = (service: string, region = endpoints.region) =>
    `/v1/projects/${project}/locations/${region}/services/${service}`;

  /** An account id (`caller`) is this project's; a missing account of this project is created. */
  async function ensureServiceAccount(text: string): Promise<string> {
    const email = text.includes("@") ? text : `${text}@${project}.iam.gserviceaccount.com`;
    const [accountId, domain] = email.split("@");
    if (domain !== `${project}.iam.gserviceaccount.com` || !accountId) return email;
    try {
      await admin.call("POST", `/v1/projects/${project}/serviceAccounts`, { accountId });
    } catch (error) {
      if (!(error instanceof ApiError && error.status === "ALREADY_EXISTS")) throw error;
    }
    return email;
  }

  async function imageOf(options: DeployOptions): Promise<string> {
    if ((options.image === undefined) === (options.command === undefined))
      throw invalidArgument("deploy() needs exactly one of image and command.");
    if (options.image !== undefined) return options.image;
    // A command becomes a catalogue image of its own, as `runguard images add` makes one.
    const ref = `runguard.local/api/${options.service}`;
    await addImage(deps.store, ref, resolve(options.dir ?? "."), options.command ?? []);
    return ref;
  }

  async function changeBinding(binding: ServiceBinding, change: "add" | "remove"): Promise<void> {
    const path = servicePath(binding.service, binding.region);
    const policy = await admin.call<Policy>("GET", `${path}:getIamPolicy`);
    const bindings = (policy.bindings ?? []).map((b) => ({ role: b.role, members: [...b.members] }));
    let entry = bindings.find((b) => b.role === binding.role);
    if (change === "add") {
      if (!entry) bindings.push((entry = { role: binding.role, members: [] }));
      if (!entry.members.includes(binding.member)) entry.members.push(binding.member);
    } else if (entry) {
      entry.members = entry.members.filter((m) => m !== binding.member);
    }
    const kept = bindings.filter((b) => b.members.length > 0);
    await admin.call("POST", `${path}:setIamPolicy`, {
      policy: { bindings: kept, ...(policy.etag ? { etag: policy.etag } : {}) },
    });
  }

  return {
    changeBinding,
    async setIamPolicy(service: string, policy: Policy, region?: string): Promise<void> {
      await admin.call("POST", `${servicePath(service, region)}:setIamPolicy`, { policy });
    },
    async deploy(options: DeployOptions): Promise<DeployedService> {
      // Knative's paths carry no region: the control plane's default one (regional hosts pick others).
      const region = endpoints.region;
      const image = await imageOf(options);
      const serviceAccount = options.serviceAccount ? await ensureServiceAccount(options.serviceAccount) : undefined;
      const body = {
        apiVersion: "serving.knative.dev/v1",
        kind: "Service",
        metadata: {
          name: options.service,
          namespace: project,
          annotations: options.ingress ? { "run.googleapis.com/ingress": options.ingress } : {},
        },
        spec: {
          template: {
            spec: {
              ...(serviceAccount ? { serviceAccountName: serviceAccount } : {}),
              containers: [{ image, env: Object.entries(options.env ?? {}).map(([name, value]) => ({ name, value })) }],
            },
          },
        },
      };
      const base = `/apis/serving.knative.dev/v1/namespaces/${project}/services`;
      const resource = `projects/${project}/locations/${region}/services/${options.service}`;
      const exists = (await deps.store.get("service", resource)) !== undefined;
      const deployed = await admin.call<{
        metadata: { annotations: Record<string, string> };
        spec: { template: { spec: { serviceAccountName?: string } } };
      }>(exists ? "PUT" : "POST", exists ? `${base}/${options.service}` : base, body);
      // As gcloud: --allow-unauthenticated adds allUsers, --no-allow-unauthenticated on a redeploy removes it.
      if (options.allowUnauthenticated)
        await changeBinding({ service: options.service, region, ...ALL_USERS_INVOKER }, "add");
      else if (exists && options.allowUnauthenticated === false)
        await changeBinding({ service: options.service, region, ...ALL_USERS_INVOKER }, "remove");
      const urls = JSON.parse(deployed.metadata.annotations["run.googleapis.com/urls"] ?? "[]") as string[];
      return {
        name: options.service,
        url: urls[0] ?? "",
        urls,
        localUrl: await waitForLocalUrl(() => deps.localUrlOf(resource)),
        serviceAccount: deployed.spec.template.spec.serviceAccountName ?? "",
      };
    },
  };
}

/** A new service's loopback port opens when the change feed reaches the port manager: moments after the deploy. */
export async function waitForLocalUrl(localUrl: () => string | undefined): Promise<string> {
  for (let waited = 0; waited < 5_000; waited += 20) {
    const url = localUrl();
    if (url) return url;
    await new Promise((r) => setTimeout(r, 20));
  }
  return "";
}
