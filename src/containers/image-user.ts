// The uid and gid an image's USER names, as a container engine resolves them: numbers as they are, names
// through the image's own /etc/passwd and /etc/group (never the host's).
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { invalidArgument } from "../core/errors.js";
import type { ContainerUser } from "./oci-spec.js";

/** Larger passwd or group files are refused: they are read on runguard's event loop at every start. */
const MAX_IMAGE_FILE_BYTES = 4 * 1024 * 1024;
const MAX_SYMLINKS = 40;

const isWhiteout = (stat: Stats) => stat.isCharacterDevice() && stat.rdev === 0;

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Where the file at `path` inside the image is on this machine, resolved as the kernel would inside the
 * container: the topmost layer that has a name wins, a whiteout hides it, a directory merges with the same
 * directory below, and a symlink resolves against the image's root, never the machine's (an image's
 * `/etc/passwd -> /etc/shadow` must not make runguard read the machine's file). Every host path this builds
 * has only real directories above it.
 */
function locateImageFile(layers: string[], path: string): string | undefined {
  let pending = path.split("/").filter(Boolean);
  let prefix: string[] = [];
  let merged = layers;
  let links = 0;
  while (pending.length > 0) {
    const [name = "", ...rest] = pending;
    pending = rest;
    if (name === ".") continue;
    if (name === "..") {
      // Back to the root and down again: the parent's layers are those of a shorter prefix.
      pending = [...prefix.slice(0, -1), ...pending];
      prefix = [];
      merged = layers;
      continue;
    }
    const index = merged.findIndex((layer) => lstatOrUndefined(join(layer, ...prefix, name)) !== undefined);
    const layer = merged[index];
    if (layer === undefined) return undefined;
    const stat = lstatSync(join(layer, ...prefix, name));
    if (isWhiteout(stat)) return undefined;
    if (stat.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) return undefined;
      const target = readlinkSync(join(layer, ...prefix, name));
      pending = [...(target.startsWith("/") ? [] : prefix), ...target.split("/").filter(Boolean), ...pending];
      prefix = [];
      merged = layers;
      continue;
    }
    if (pending.length === 0) return stat.isFile() ? join(layer, ...prefix, name) : undefined;
    if (!stat.isDirectory()) return undefined;
    // The directory merges with the same directory in the layers below, down to one that hides it.
    const below: string[] = [layer];
    for (const lower of merged.slice(index + 1)) {
      const lowerStat = lstatOrUndefined(join(lower, ...prefix, name));
      if (!lowerStat) continue;
      if (!lowerStat.isDirectory()) break;
      below.push(lower);
    }
    prefix = [...prefix, name];
    merged = below;
  }
  return undefined;
}

/** The file at `path` inside the image, if it is a regular file there. */
function readImageFile(layers: string[], path: string): string | undefined {
  const file = locateImageFile(layers, path);
  if (!file) return undefined;
  // O_NOFOLLOW and O_NONBLOCK: never a link, never a wait on a FIFO put there after the look-up.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return undefined;
    if (stat.size > MAX_IMAGE_FILE_BYTES)
      throw invalidArgument(`The image's /${path} is larger than ${MAX_IMAGE_FILE_BYTES / 1024 / 1024} MiB.`);
    const buffer = Buffer.alloc(stat.size);
    const read = readSync(fd, buffer, 0, stat.size, 0);
    return buffer.subarray(0, read).toString("utf8");
  } finally {
    closeSync(fd);
  }
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
