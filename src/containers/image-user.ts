// The uid and gid an image's USER names, as a container engine resolves them: numbers as they are, names
// through the image's own /etc/passwd and /etc/group (never the host's).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { invalidArgument } from "../core/errors.js";
import type { ContainerUser } from "./oci-spec.js";

/** The file at `path` inside the image: the topmost layer that has it wins. */
function readImageFile(layers: string[], path: string): string | undefined {
  for (const layer of layers) {
    try {
      return readFileSync(join(layer, path), "utf8");
    } catch {
      // not in this layer
    }
  }
  return undefined;
}

function lookUp(file: string | undefined, name: string, field: number): number | undefined {
  for (const line of (file ?? "").split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name && /^\d+$/.test(fields[field] ?? "")) return Number(fields[field]);
  }
  return undefined;
}

const MAX_ID = 65_535;

export function resolveImageUser(user: string, layers: string[]): ContainerUser {
  const [userPart = "", groupPart] = user.split(":");
  if (userPart === "" && groupPart === undefined) return { uid: 0, gid: 0 };
  const passwd = /^\d+$/.test(userPart) && groupPart !== undefined ? undefined : readImageFile(layers, "etc/passwd");
  const uid = /^\d+$/.test(userPart) ? Number(userPart) : lookUp(passwd, userPart, 2);
  if (uid === undefined) throw invalidArgument(`The image's USER '${user}' is not in its /etc/passwd.`);
  let gid: number | undefined;
  if (groupPart === undefined) {
    // The user's primary group from passwd, or the uid's own number (as podman does).
    const entry = (passwd ?? "").split("\n").find((line) => line.split(":")[2] === String(uid));
    gid = entry ? Number(entry.split(":")[3]) : uid;
  } else {
    gid = /^\d+$/.test(groupPart) ? Number(groupPart) : lookUp(readImageFile(layers, "etc/group"), groupPart, 2);
  }
  if (gid === undefined || Number.isNaN(gid))
    throw invalidArgument(`The image's USER '${user}' names a group that is not in its /etc/group.`);
  if (uid > MAX_ID || gid > MAX_ID) throw invalidArgument(`The image's USER '${user}' is out of range (0-${MAX_ID}).`);
  return { uid, gid };
}
