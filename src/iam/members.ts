// IAM member strings (fidelity reference §1.8): parsed and validated before they enter a policy.
import { invalidArgument } from "../core/errors.js";

export type MemberKind =
  | "user"
  | "serviceAccount"
  | "group"
  | "domain"
  | "allUsers"
  | "allAuthenticatedUsers"
  | "deleted"
  | "principal"
  | "principalSet";

export interface ParsedMember {
  kind: MemberKind;
  /** Lower-cased email or domain; empty for allUsers/allAuthenticatedUsers. */
  value: string;
}

// No control characters in any member: members are shown in terminals, logs and gcloud's output.
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const EMAIL = /^[^\s@:\x00-\x1f\x7f-\x9f]+@[^\s@:\x00-\x1f\x7f-\x9f]+\.[^\s@:\x00-\x1f\x7f-\x9f]+$/;
/** An email address as IAM members name one: no whitespace, `:` or control characters. */
export const isEmailAddress = (text: string): boolean => EMAIL.test(text);
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const DELETED = /^deleted:(user|serviceAccount|group):([^?\s]+)\?uid=\d+$/;

function invalid(member: string) {
  return invalidArgument(
    `Invalid principal: ${JSON.stringify(member)}. Principals must be of the form user:EMAIL, serviceAccount:EMAIL, group:EMAIL, domain:DOMAIN, allUsers or allAuthenticatedUsers.`,
  );
}

export function parseMember(member: string): ParsedMember {
  if (typeof member !== "string" || member !== member.trim() || member.length === 0) throw invalid(String(member));
  if (CONTROL.test(member)) throw invalid(member);
  if (member === "allUsers") return { kind: "allUsers", value: "" };
  if (member === "allAuthenticatedUsers") return { kind: "allAuthenticatedUsers", value: "" };
  if (DELETED.test(member)) return { kind: "deleted", value: member };
  if (/^principal(Set)?:\/\/iam\.googleapis\.com\/\S+$/.test(member)) {
    return { kind: member.startsWith("principalSet:") ? "principalSet" : "principal", value: member };
  }
  const colon = member.indexOf(":");
  const prefix = member.slice(0, colon);
  const value = member.slice(colon + 1).toLowerCase();
  if (colon > 0 && ["user", "serviceAccount", "group"].includes(prefix) && EMAIL.test(value)) {
    return { kind: prefix as MemberKind, value };
  }
  if (colon > 0 && prefix === "domain" && DOMAIN.test(value)) return { kind: "domain", value };
  throw invalid(member);
}

/** The canonical spelling of a member: prefix kept, email or domain lower-cased. */
export function canonicalMember(member: string): string {
  const parsed = parseMember(member);
  if (parsed.kind === "allUsers" || parsed.kind === "allAuthenticatedUsers") return parsed.kind;
  if (parsed.kind === "deleted" || parsed.kind === "principal" || parsed.kind === "principalSet") return member;
  return `${parsed.kind}:${parsed.value}`;
}
