// Runtime identity: services running as the default compute account, or as any account with project-wide
// Editor or Owner.
import type { Check } from "../model.js";
import { finding, region } from "./helpers.js";

export const defaultServiceAccount: Check = {
  id: "RG-RUN-001",
  severity: "high",
  title: "Service runs as the Compute Engine default service account",
  why: "The default compute account holds the project Editor role, so any flaw in the app can read and write most of the project.",
  run(input, context) {
    return input.services
      .filter(
        (s) =>
          s.serviceAccount.endsWith("-compute@developer.gserviceaccount.com") ||
          s.serviceAccount === context.computeServiceAccount,
      )
      .map((s) =>
        finding(this, s.resource, `serviceAccountName: ${s.serviceAccount}`, [
          `gcloud iam service-accounts create ${s.name}-sa --display-name="Service account for ${s.name}"`,
          `gcloud run services update ${s.name} ${region(s)} --service-account=${s.name}-sa@${input.projectId}.iam.gserviceaccount.com`,
        ]),
      );
  },
};

export const privilegedServiceAccount: Check = {
  id: "RG-RUN-002",
  severity: "high",
  title: "Service runs as an account with roles/editor or roles/owner",
  why: "A compromised service inherits its account's permissions; Editor or Owner on the project is nearly everything.",
  run(input, context) {
    return input.services.flatMap((s) => {
      const member = `serviceAccount:${s.serviceAccount}`;
      const broad = context.projectRoles(member).filter((r) => r === "roles/editor" || r === "roles/owner");
      return broad.map((role) =>
        finding(this, s.resource, `${member} has ${role} on projects/${input.projectId}`, [
          `gcloud projects remove-iam-policy-binding ${input.projectId} --member=${member} --role=${role}`,
          `# then grant only the roles ${s.name} needs, on the resources it uses`,
        ]),
      );
    });
  },
};
