// runguard's own admin API for what Google keeps outside a project (Cloud Identity groups) and for the
// explainer. Changing groups takes resourcemanager.projects.setIamPolicy on the default project, reading them
// and explaining decisions takes resourcemanager.projects.getIamPolicy.
import { invalidArgument } from "../../core/errors.js";
import { addGroupMember, listGroups, removeGroupMember } from "../../accounts/groups.js";
import { parsePrincipal } from "../../iam/principal-parse.js";
import { hasPassword, removeUserPassword, setUserPassword } from "../../accounts/user-passwords.js";
import { listUsers } from "../../accounts/users.js";
import { path, seg, type ApiCall, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";
import { explainRequest, groupMemberRequest, setPasswordRequest } from "../wire/runguard.js";

/** Runs `work` once `permission` on the default project is granted; audited against the project. */
function onDefaultProject(call: ApiCall, permission: string, work: () => unknown) {
  const resource = `projects/${call.platform.config.projectId}`;
  return auditAs({ resourceName: resource }, () => {
    call.ctx.authorize(permission, resource);
    return work();
  });
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
    handle: (call) =>
      onDefaultProject(call, "resourcemanager.projects.getIamPolicy", async () => ({
        groups: await listGroups(call.platform),
      })),
  },
  ...(["addMember", "removeMember"] as const).map((verb): Route => ({
    api: "runguard",
    method: "POST",
    path: path(`/runguard/v1/groups/${seg("group")}:${verb}`),
    methodName: `runguard.admin.${verb === "addMember" ? "AddGroupMember" : "RemoveGroupMember"}`,
    body: groupMemberRequest,
    mutates: true,
    handle: (call) =>
      onDefaultProject(call, "resourcemanager.projects.setIamPolicy", () => {
        const group = call.params["group"] ?? "";
        const member = stringField(call.body, "member");
        return auditAs({ resourceName: `groups/${group}` }, () =>
          verb === "addMember"
            ? addGroupMember(call.platform, group, member)
            : removeGroupMember(call.platform, group, member),
        );
      }),
  })),
  {
    api: "runguard",
    method: "GET",
    path: path("/runguard/v1/users"),
    methodName: "runguard.admin.ListUsers",
    mutates: false,
    handle: (call) =>
      onDefaultProject(call, "resourcemanager.projects.getIamPolicy", async () => {
        const users = await listUsers(call.platform);
        return {
          users: await Promise.all(
            users.map(async (u) => ({ ...u, canSignIn: await hasPassword(call.platform, u.email) })),
          ),
        };
      }),
  },
  {
    api: "runguard",
    method: "POST",
    path: path(`/runguard/v1/users/${seg("user")}:setPassword`),
    methodName: "runguard.admin.SetUserPassword",
    body: setPasswordRequest,
    mutates: true,
    handle: (call) =>
      onDefaultProject(call, "resourcemanager.projects.setIamPolicy", () => {
        const email = (call.params["user"] ?? "").toLowerCase();
        if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw invalidArgument(`'${email}' is not an email address.`);
        return auditAs({ resourceName: `users/${email}` }, async () => {
          const user = await setUserPassword(call.platform, email, stringField(call.body, "password"));
          return { ...user, canSignIn: true };
        });
      }),
  },
  {
    api: "runguard",
    method: "POST",
    path: path(`/runguard/v1/users/${seg("user")}:removePassword`),
    methodName: "runguard.admin.RemoveUserPassword",
    mutates: true,
    handle: (call) =>
      onDefaultProject(call, "resourcemanager.projects.setIamPolicy", () => {
        const email = (call.params["user"] ?? "").toLowerCase();
        return auditAs({ resourceName: `users/${email}` }, async () => {
          await removeUserPassword(call.platform, email);
          return {};
        });
      }),
  },
  {
    api: "runguard",
    method: "POST",
    path: path("/runguard/v1/iam:explain"),
    methodName: "runguard.admin.ExplainAccess",
    body: explainRequest,
    mutates: false,
    handle: (call) =>
      onDefaultProject(call, "resourcemanager.projects.getIamPolicy", () => {
        const principal = parsePrincipal(stringField(call.body, "principal"));
        return call.platform.engine.explain(
          principal,
          stringField(call.body, "permission"),
          stringField(call.body, "resource"),
        );
      }),
  },
];
