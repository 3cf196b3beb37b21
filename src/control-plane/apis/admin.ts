// runguard's own admin API for what Google keeps outside a project (Cloud Identity groups) and for the
// explainer. Changing groups takes resourcemanager.projects.setIamPolicy on the default project, reading them
// and explaining decisions takes resourcemanager.projects.getIamPolicy.
import { invalidArgument } from "../../core/errors.js";
import { addGroupMember, listGroups, removeGroupMember } from "../../accounts/groups.js";
import { parsePrincipal } from "../../iam/principal-parse.js";
import { hasPassword, removeUserPassword, setUserPassword } from "../../accounts/user-passwords.js";
import { listUsers } from "../../accounts/users.js";
import { path, seg, type ApiCall, type Route } from "../route.js";
import { explainRequest, groupMemberRequest, setPasswordRequest } from "../wire/runguard.js";

function requireOnProject(call: ApiCall, permission: string): void {
  const resource = `projects/${call.platform.config.projectId}`;
  call.audit.resourceName = resource;
  call.ctx.authorize(permission, resource);
}

function stringField(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== "string" || value.length === 0) throw invalidArgument(`'${field}' is required.`);
  return value;
}

export const adminRoutes: Route[] = [
  {
    api: "runguard",
    method: "GET",
    path: path("/runguard/v1/groups"),
    methodName: "runguard.admin.ListGroups",
    mutates: false,
    async handle(call) {
      requireOnProject(call, "resourcemanager.projects.getIamPolicy");
      return { groups: await listGroups(call.platform) };
    },
  },
  ...(["addMember", "removeMember"] as const).map((verb): Route => ({
    api: "runguard",
    method: "POST",
    path: path(`/runguard/v1/groups/${seg("group")}:${verb}`),
    methodName: `runguard.admin.${verb === "addMember" ? "AddGroupMember" : "RemoveGroupMember"}`,
    body: groupMemberRequest,
    mutates: true,
    async handle(call) {
      requireOnProject(call, "resourcemanager.projects.setIamPolicy");
      const group = call.params["group"] ?? "";
      const member = stringField(call.body, "member");
      call.audit.resourceName = `groups/${group}`;
      return verb === "addMember"
        ? addGroupMember(call.platform, group, member)
        : removeGroupMember(call.platform, group, member);
    },
  })),
  {
    api: "runguard",
    method: "GET",
    path: path("/runguard/v1/users"),
    methodName: "runguard.admin.ListUsers",
    mutates: false,
    async handle(call) {
      requireOnProject(call, "resourcemanager.projects.getIamPolicy");
      const users = await listUsers(call.platform);
      return {
        users: await Promise.all(
          users.map(async (u) => ({ ...u, canSignIn: await hasPassword(call.platform, u.email) })),
        ),
      };
    },
  },
  {
    api: "runguard",
    method: "POST",
    path: path(`/runguard/v1/users/${seg("user")}:setPassword`),
    methodName: "runguard.admin.SetUserPassword",
    body: setPasswordRequest,
    mutates: true,
    async handle(call) {
      requireOnProject(call, "resourcemanager.projects.setIamPolicy");
      const email = (call.params["user"] ?? "").toLowerCase();
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw invalidArgument(`'${email}' is not an email address.`);
      call.audit.resourceName = `users/${email}`;
      const user = await setUserPassword(call.platform, email, stringField(call.body, "password"));
      return { ...user, canSignIn: true };
    },
  },
  {
    api: "runguard",
    method: "POST",
    path: path(`/runguard/v1/users/${seg("user")}:removePassword`),
    methodName: "runguard.admin.RemoveUserPassword",
    mutates: true,
    async handle(call) {
      requireOnProject(call, "resourcemanager.projects.setIamPolicy");
      const email = (call.params["user"] ?? "").toLowerCase();
      call.audit.resourceName = `users/${email}`;
      await removeUserPassword(call.platform, email);
      return {};
    },
  },
  {
    api: "runguard",
    method: "POST",
    path: path("/runguard/v1/iam:explain"),
    methodName: "runguard.admin.ExplainAccess",
    body: explainRequest,
    mutates: false,
    async handle(call) {
      requireOnProject(call, "resourcemanager.projects.getIamPolicy");
      const principal = parsePrincipal(stringField(call.body, "principal"));
      return call.platform.engine.explain(
        principal,
        stringField(call.body, "permission"),
        stringField(call.body, "resource"),
      );
    },
  },
];
