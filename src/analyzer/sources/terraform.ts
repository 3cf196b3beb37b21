// A Terraform plan (`terraform show -json`) as analyzer input: Cloud Run v2 services, their IAM, project
// IAM, secrets and their IAM, service-account keys.
import type { Binding } from "../../iam/types.js";
import type { AnalysisInput } from "../model.js";
import type { SecretReference } from "../../secrets/references.js";
import type { Ingress } from "../../run/types.js";

interface PlanResource {
  type: string;
  values: Record<string, unknown>;
}

interface PlanModule {
  resources?: PlanResource[];
  child_modules?: PlanModule[];
}

const INGRESS: Record<string, Ingress> = {
  INGRESS_TRAFFIC_ALL: "all",
  INGRESS_TRAFFIC_INTERNAL_ONLY: "internal",
  INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER: "internal-and-cloud-load-balancing",
};

function resourcesOf(module: PlanModule | undefined): PlanResource[] {
  return module ? [...(module.resources ?? []), ...(module.child_modules ?? []).flatMap(resourcesOf)] : [];
}

const first = <T>(value: unknown): T | undefined =>
  Array.isArray(value) ? (value[0] as T | undefined) : (value as T | undefined);
const str = (value: unknown) => (typeof value === "string" ? value : "");

export function terraformInput(
  plan: { planned_values?: { root_module?: PlanModule } },
  projectId: string,
  defaultServiceAccount: string,
): AnalysisInput {
  const input: AnalysisInput = {
    projectId,
    services: [],
    policies: new Map(),
    serviceAccounts: [],
    secrets: [],
    groups: [],
  };
  const bind = (resource: string, role: string, members: string[]) => {
    const policy = input.policies.get(resource) ?? { version: 1, bindings: [] as Binding[] };
    policy.bindings = [...(policy.bindings ?? []), { role, members }];
    input.policies.set(resource, policy);
  };
  const serviceResource = (name: string, location: string) =>
    `projects/${projectId}/locations/${location || "us-central1"}/services/${name.split("/").pop() ?? name}`;
  const negs = new Map<string, string>();
  const backends: Array<{ name: string; iapEnabled: boolean; groups: string[] }> = [];
  for (const { type, values } of resourcesOf(plan.planned_values?.root_module)) {
    const members = (values["members"] as string[] | undefined) ?? (values["member"] ? [str(values["member"])] : []);
    switch (type) {
      case "google_cloud_run_v2_service": {
        const template = first<Record<string, unknown>>(values["template"]) ?? {};
        const container = first<Record<string, unknown>>(template["containers"]) ?? {};
        const envs = (container["env"] as Array<Record<string, unknown>> | undefined) ?? [];
        const secrets: SecretReference[] = envs.flatMap((e) => {
          const ref = first<Record<string, unknown>>(
            first<Record<string, unknown>>(e["value_source"])?.["secret_key_ref"],
          );
          return ref
            ? [
                {
                  kind: "env" as const,
                  target: str(e["name"]),
                  secret: str(ref["secret"]),
                  version: str(ref["version"]) || "latest",
                  field: "template.containers.env",
                },
              ]
            : [];
        });
        const vpc = first<Record<string, unknown>>(template["vpc_access"]);
        const name = str(values["name"]);
        input.services.push({
          name,
          region: str(values["location"]) || "us-central1",
          resource: serviceResource(name, str(values["location"])),
          serviceAccount: str(template["service_account"]) || defaultServiceAccount,
          ingress: INGRESS[str(values["ingress"])] ?? "all",
          invokerIamDisabled: values["invoker_iam_disabled"] === true,
          iapEnabled: values["iap_enabled"] === true,
          env: envs
            .filter((e) => typeof e["value"] === "string")
            .map((e) => ({ name: str(e["name"]), value: str(e["value"]) })),
          secrets,
          labels: (values["labels"] as Record<string, string> | undefined) ?? {},
          ...(vpc?.["egress"]
            ? { vpcEgress: str(vpc["egress"]) === "ALL_TRAFFIC" ? "all-traffic" : "private-ranges-only" }
            : {}),
        });
        break;
      }
      case "google_cloud_run_service_iam_member":
      case "google_cloud_run_service_iam_binding":
      case "google_cloud_run_v2_service_iam_member":
      case "google_cloud_run_v2_service_iam_binding":
        bind(
          serviceResource(str(values["service"]) || str(values["name"]), str(values["location"])),
          str(values["role"]),
          members,
        );
        break;
      case "google_project_iam_member":
      case "google_project_iam_binding":
        bind(`projects/${projectId}`, str(values["role"]), members);
        break;
      case "google_secret_manager_secret":
        input.secrets.push(`projects/${projectId}/secrets/${str(values["secret_id"])}`);
        break;
      case "google_secret_manager_secret_iam_member":
      case "google_secret_manager_secret_iam_binding":
        bind(
          `projects/${projectId}/secrets/${str(values["secret_id"]).split("/").pop()}`,
          str(values["role"]),
          members,
        );
        break;
      case "google_compute_region_network_endpoint_group": {
        const cloudRun = first<Record<string, unknown>>(values["cloud_run"]);
        if (cloudRun) negs.set(str(values["name"]), str(cloudRun["service"]));
        break;
      }
      case "google_compute_backend_service": {
        const iap = first<Record<string, unknown>>(values["iap"]);
        const groups = ((values["backend"] as Array<Record<string, unknown>> | undefined) ?? []).map(
          (b) => str(b["group"]).split("/").pop() ?? "",
        );
        backends.push({ name: str(values["name"]), iapEnabled: iap !== undefined && iap["enabled"] !== false, groups });
        break;
      }
      case "google_service_account_key": {
        const email = str(values["service_account_id"]).split("/").pop() ?? "";
        const account = input.serviceAccounts.find((a) => a.email === email);
        if (account) account.userManagedKeys++;
        else input.serviceAccounts.push({ email, userManagedKeys: 1 });
        break;
      }
    }
  }
  input.iapBackends = backends.map((b) => ({
    name: b.name,
    iapEnabled: b.iapEnabled,
    services: b.groups.map((g) => negs.get(g) ?? "").filter(Boolean),
  }));
  return input;
}
