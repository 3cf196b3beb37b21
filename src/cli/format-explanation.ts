// Human-readable rendering of an IAM explanation.
import type { Explanation } from "../iam/explain.js";
import type { Store } from "../store/store.js";
import type { StoredService } from "../run/types.js";

export interface IngressVerdict {
  setting: string;
  external: "admitted" | "404 before IAM";
  internal: "admitted";
  loadBalancer: "admitted" | "404 before IAM";
}

/** For a Cloud Run service: which sources its ingress setting lets reach the IAM check at all. */
export async function ingressVerdict(store: Store, resource: string): Promise<IngressVerdict | undefined> {
  if (!/^projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+$/.test(resource)) return undefined;
  const service = await store.get<StoredService>("service", resource);
  if (!service) return undefined;
  const setting = service.annotations["run.googleapis.com/ingress"] ?? "all";
  return {
    setting,
    external: setting === "all" ? "admitted" : "404 before IAM",
    internal: "admitted",
    loadBalancer: setting === "internal" ? "404 before IAM" : "admitted",
  };
}

export function formatExplanation(e: Explanation, ingress?: IngressVerdict): string {
  const lines = [
    `${e.allowed ? "ALLOWED" : "DENIED"}: ${e.principal} ${e.allowed ? "has" : "lacks"} ${e.permission} on ${e.resource}`,
  ];
  if (ingress) {
    lines.push(
      `  ingress ${ingress.setting}: from the internet ${ingress.external}; from a VPC network ${ingress.internal}; through a load balancer ${ingress.loadBalancer}`,
    );
  }
  if (e.grant) {
    lines.push(`  granted by ${e.grant.role} on ${e.grant.resource} to ${e.grant.member} (${e.grant.via})`);
  }
  lines.push("  identities considered:");
  for (const identity of e.identities) lines.push(`    ${identity.member}  [${identity.via}]`);
  for (const policy of e.policies) {
    lines.push(`  policy of ${policy.resource}:${policy.bindings.length === 0 ? " (no bindings)" : ""}`);
    for (const b of policy.bindings) {
      const match = b.matchedMember ? `matches ${b.matchedMember} [${b.via}]` : "no member matches";
      const perm = b.roleHasPermission ? `includes ${e.permission}` : `does not include ${e.permission}`;
      const cond = b.condition
        ? `; condition ${JSON.stringify(b.condition.expression)} → ${String(b.condition.result)}`
        : "";
      lines.push(`    ${b.role}: ${perm}; ${match}${cond}`);
    }
  }
  return lines.join("\n");
}
