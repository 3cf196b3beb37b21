// Turns a member-style string into the principal it names: `user:a@x`, `serviceAccount:b@y`, `allUsers`
// (anonymous). Used by the CLI and the explainer.
import { invalidArgument } from "../core/errors.js";
import { ANONYMOUS, type Principal } from "./types.js";

export function parsePrincipal(text: string): Principal {
  if (text === "allUsers" || text === "anonymous") return ANONYMOUS;
  const match = /^(user|serviceAccount):([^\s@:]+@[^\s@:]+)$/i.exec(text.trim());
  if (!match?.[1] || !match[2]) {
    throw invalidArgument(`Invalid principal '${text}': expected user:EMAIL, serviceAccount:EMAIL or allUsers.`);
  }
  const kind = match[1].toLowerCase() === "user" ? "user" : "serviceAccount";
  return { kind, email: match[2].toLowerCase() };
}
