// Least privilege on grants: broad project-level roles held by service accounts, Secret Manager access granted
// project-wide, and user-managed service-account keys.
import type { Check } from "../model.js";
import { finding } from "./helpers.js";

const BROAD_ROLES = new Set([
  "roles/editor",
  "roles/owner",
  "roles/run.admin",
  "roles/secretmanager.admin",
  "roles/iam.serviceAccountAdmin",
  "roles/storage.admin",
  "roles/cloudsql.admin",
]);

export const broadProjectRoles: Check = {
  id: "RG-IAM-001",
  severity: "medium",
  title: "Broad project-level role granted to a service account",
  why: "A project-wide admin or basic role gives the account every resource of the project; bind the narrowest role on the resources it uses.",
  run(input) {
    const project = `projects/${input.projectId}`;
    return (input.policies.get(project)?.bindings ?? [])
      .filter((b) => BROAD_ROLES.has(b.role))
      .flatMap((b) =>
        b.members
          .filter((m) => m.startsWith("serviceAccount:") && !m.endsWith("-compute@developer.gserviceaccount.com"))
          .map((m) =>
            finding(this, project, `${m} has ${b.role} on ${project}`, [
              `gcloud projects remove-iam-policy-binding ${input.projectId} --member=${m} --role=${b.role}`,
            ]),
          ),
      );
  },
};

export const projectWideSecretAccess: Check = {
  id: "RG-IAM-002",
  severity: "medium",
  title: "Secret Manager accessor granted on the whole project",
  why: "roles/secretmanager.secretAccessor on the project reads every secret; grant it on each secret the service needs.",
  run(input) {
    const project = `projects/${input.projectId}`;
    return (input.policies.get(project)?.bindings ?? [])
      .filter((b) => b.role === "roles/secretmanager.secretAccessor" && !b.condition)
      .flatMap((b) =>
        b.members.map((m) =>
          finding(this, project, `${m} has roles/secretmanager.secretAccessor on ${project}`, [
            `gcloud projects remove-iam-policy-binding ${input.projectId} --member=${m} --role=roles/secretmanager.secretAccessor`,
            `gcloud secrets add-iam-policy-binding SECRET --member=${m} --role=roles/secretmanager.secretAccessor`,
          ]),
        ),
      );
  },
};

export const userManagedKeys: Check = {
  id: "RG-IAM-003",
  severity: "medium",
  title: "User-managed service-account keys exist",
  why: "Key files are long-lived credentials that leak and are hard to rotate; Cloud Run services get short-lived tokens from the metadata server instead.",
  run(input) {
    const runtime = new Set(input.services.map((s) => s.serviceAccount));
    return input.serviceAccounts
      .filter((a) => a.userManagedKeys > 0)
      .map((a) =>
        finding(
          this,
          `projects/${input.projectId}/serviceAccounts/${a.email}`,
          `${a.userManagedKeys} user-managed key(s) for ${a.email}${runtime.has(a.email) ? ", which a Cloud Run service runs as" : ""}`,
          [
            `gcloud iam service-accounts keys list --iam-account=${a.email} --managed-by=user`,
            `gcloud iam service-accounts keys delete KEY_ID --iam-account=${a.email}`,
          ],
          runtime.has(a.email) ? { severity: "high" } : {},
        ),
      );
  },
};
