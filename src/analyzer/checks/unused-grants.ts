// Least privilege from observed access: grants whose permissions the audit and request logs never show in
// use, and the narrowest predefined role that covers what was used.
import { getRole, listRoles } from "../../iam/roles.js";
import type { Check } from "../model.js";
import { finding, removeBindingCommand } from "./helpers.js";

function narrowestRoleCovering(permissions: Set<string>, current: string): string | undefined {
  const currentSize = getRole(current)?.includedPermissions.length ?? Infinity;
  let best: { name: string; size: number } | undefined;
  for (const role of listRoles()) {
    const size = role.includedPermissions.length;
    if (size >= currentSize || (best && size >= best.size)) continue;
    const granted = new Set(role.includedPermissions);
    if ([...permissions].every((p) => granted.has(p))) best = { name: role.name, size };
  }
  return best?.name;
}

export const unusedGrants: Check = {
  id: "RG-IAM-004",
  severity: "low",
  title: "Grant not exercised in the observed window",
  why: "Permissions nobody uses only widen what a leaked credential can do; remove the grant or narrow it to what was used.",
  run(input) {
    if (!input.exercised) return [];
    const used = new Map<string, Set<string>>();
    for (const access of input.exercised) {
      const key = access.principal;
      const set = used.get(key) ?? new Set<string>();
      set.add(`${access.resource} ${access.permission}`);
      used.set(key, set);
    }
    return [...input.policies.entries()].flatMap(([resource, policy]) =>
      (policy.bindings ?? []).flatMap((binding) =>
        binding.members
          .filter((m) => m.startsWith("serviceAccount:") || m.startsWith("user:"))
          .flatMap((member) => {
            const role = getRole(binding.role);
            if (!role) return [];
            const rolePermissions = new Set(role.includedPermissions);
            const exercised = new Set(
              [...(used.get(member) ?? [])]
                .map((entry) => entry.split(" "))
                .filter(
                  ([onResource, permission]) =>
                    (onResource === resource || onResource?.startsWith(`${resource}/`)) &&
                    rolePermissions.has(permission ?? ""),
                )
                .map(([, permission]) => permission as string),
            );
            if (exercised.size === rolePermissions.size) return [];
            const remove = removeBindingCommand(resource, member, binding.role);
            if (exercised.size === 0)
              return [
                finding(this, resource, `${member} has ${binding.role}; none of its permissions was used`, [remove]),
              ];
            const narrower = narrowestRoleCovering(exercised, binding.role);
            return narrower
              ? [
                  finding(
                    this,
                    resource,
                    `${member} has ${binding.role} but used only ${[...exercised].sort().join(", ")}`,
                    [`# replace ${binding.role} with ${narrower}`, remove],
                    { title: "Grant broader than the access observed" },
                  ),
                ]
              : [];
          }),
      ),
    );
  },
};
