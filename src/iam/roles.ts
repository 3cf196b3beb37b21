// Google's predefined roles with their real permissions (roles-catalogue.json, extracted from the public
// iann0036/iam-dataset at the commit it names). Custom roles are not supported.
import catalogueJson from "./roles-catalogue.json" with { type: "json" };

export interface RoleDefinition {
  name: string;
  title: string;
  description: string;
  includedPermissions: readonly string[];
}

interface Catalogue {
  commit: string;
  roles: RoleDefinition[];
}

const catalogue = catalogueJson as unknown as Catalogue;
const byName = new Map(catalogue.roles.map((role) => [role.name, role]));
const permissionSets = new Map(catalogue.roles.map((role) => [role.name, new Set(role.includedPermissions)]));

export const getRole = (name: string): RoleDefinition | undefined => byName.get(name);
export const isKnownRole = (name: string): boolean => byName.has(name);
export const listRoles = (): readonly RoleDefinition[] => catalogue.roles;

export function roleGrants(role: string, permission: string): boolean {
  return permissionSets.get(role)?.has(permission) ?? false;
}
