// Unpacking an uploaded source archive (the zip gcloud makes of a directory) into a build context, refusing
// what a hostile archive could do: names that leave the directory (zip slip), links, and more entries or more
// unpacked bytes than a source tree needs (zip bombs). Only stored and deflated entries, without zip64, as
// gcloud writes them.
import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeFileSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { crc32, inflateRawSync } from "node:zlib";
import { invalidArgument } from "../core/errors.js";

export interface UnzipLimits {
  maxEntries: number;
  /** The sum of every entry's unpacked size. */
  maxTotalBytes: number;
}

export const SOURCE_ZIP_LIMITS: UnzipLimits = { maxEntries: 20_000, maxTotalBytes: 1024 * 1024 * 1024 };

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_ENTRY = 0x02014b50;
const LOCAL_ENTRY = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

const bad = (why: string) => invalidArgument(`The source archive is not a zip runguard can unpack: ${why}.`);

interface Entry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  directory: boolean;
  /** Permission bits as the archive records them (an image copies them), at most 0755. */
  mode: number;
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const read = readSync(fd, buffer, 0, length, offset);
  if (read !== length) throw bad("it ends early");
  return buffer;
}

function centralDirectory(fd: number, fileSize: number): { offset: number; count: number } {
  const tailLength = Math.min(fileSize, 22 + 0xffff);
  const tail = readAt(fd, fileSize - tailLength, tailLength);
  for (let at = tail.length - 22; at >= 0; at--) {
    if (tail.readUInt32LE(at) !== END_OF_CENTRAL_DIRECTORY) continue;
    const count = tail.readUInt16LE(at + 10);
    const offset = tail.readUInt32LE(at + 16);
    if (count === 0xffff || offset === 0xffffffff) throw bad("zip64 archives are not supported");
    return { offset, count };
  }
  throw bad("no end of central directory");
}

/** A relative path inside the archive, or a refusal: absolute names, `..`, drive letters and NULs leave it. */
function safeName(raw: string): string {
  const name = raw.replace(/\\/g, "/");
  if (name.includes("\0") || name.startsWith("/") || /^[A-Za-z]:/.test(name)) throw bad(`unsafe entry name '${raw}'`);
  const parts = name.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.some((part) => part === "..")) throw bad(`entry '${raw}' leaves the archive's directory`);
  return parts.join("/");
}

function readEntries(fd: number, fileSize: number, limits: UnzipLimits): Entry[] {
  const { offset, count } = centralDirectory(fd, fileSize);
  if (count > limits.maxEntries) throw bad(`more than ${limits.maxEntries} entries`);
  const entries: Entry[] = [];
  let at = offset;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const header = readAt(fd, at, 46);
    if (header.readUInt32LE(0) !== CENTRAL_ENTRY) throw bad("a broken central directory");
    const madeBy = header.readUInt16LE(4) >> 8;
    const flags = header.readUInt16LE(8);
    const method = header.readUInt16LE(10);
    const nameLength = header.readUInt16LE(28);
    const extraLength = header.readUInt16LE(30);
    const commentLength = header.readUInt16LE(32);
    const mode = madeBy === 3 ? header.readUInt32LE(38) >>> 16 : 0;
    const raw = readAt(fd, at + 46, nameLength).toString(flags & 0x800 ? "utf8" : "latin1");
    at += 46 + nameLength + extraLength + commentLength;
    if (flags & 0x1) throw bad(`entry '${raw}' is encrypted`);
    const type = mode & S_IFMT;
    if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
      throw bad(`entry '${raw}' is ${type === S_IFLNK ? "a symbolic link" : "not a file or a directory"}`);
    }
    const entry: Entry = {
      name: safeName(raw),
      method,
      crc: header.readUInt32LE(16),
      compressedSize: header.readUInt32LE(20),
      size: header.readUInt32LE(24),
      localOffset: header.readUInt32LE(42),
      directory: raw.endsWith("/") || type === S_IFDIR,
      mode: mode === 0 ? 0o644 : (mode & 0o755) | 0o400,
    };
    if (entry.compressedSize === 0xffffffff || entry.size === 0xffffffff || entry.localOffset === 0xffffffff)
      throw bad("zip64 archives are not supported");
    if (!entry.directory && method !== STORED && method !== DEFLATED)
      throw bad(`entry '${raw}' uses compression method ${method}`);
    total += entry.size;
    if (total > limits.maxTotalBytes) throw bad(`it unpacks to more than ${limits.maxTotalBytes} bytes`);
    entries.push(entry);
  }
  return entries;
}

function contentOf(fd: number, entry: Entry): Buffer {
  const local = readAt(fd, entry.localOffset, 30);
  if (local.readUInt32LE(0) !== LOCAL_ENTRY) throw bad(`entry '${entry.name}' has no local header`);
  const start = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  const packed = readAt(fd, start, entry.compressedSize);
  let data: Buffer;
  if (entry.method === STORED) data = packed;
  else {
    try {
      // One byte more than declared would be a lie: inflating stops there instead of filling memory.
      data = inflateRawSync(packed, { maxOutputLength: Math.max(1, entry.size + 1) });
    } catch {
      throw bad(`entry '${entry.name}' does not inflate to its declared size`);
    }
  }
  if (data.length !== entry.size || crc32(data) !== entry.crc) throw bad(`entry '${entry.name}' is corrupt`);
  return data;
}

/**
 * Unpacks `zipPath` into the empty directory `into`, which the caller keeps private (0700): what is inside keeps
 * the archive's permission bits, as an image built from it will.
 */
export function unzipInto(zipPath: string, into: string, limits: UnzipLimits = SOURCE_ZIP_LIMITS): number {
  const root = resolve(into);
  const fd = openSync(zipPath, "r");
  try {
    const entries = readEntries(fd, fstatSync(fd).size, limits);
    for (const entry of entries) {
      if (entry.name === "") continue;
      const target = resolve(root, entry.name);
      if (!target.startsWith(root + sep)) throw bad(`entry '${entry.name}' leaves the archive's directory`);
      if (entry.directory) {
        mkdirSync(target, { recursive: true, mode: 0o755 });
        continue;
      }
      mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
      // `wx`: an entry never overwrites another one (or follows anything already there).
      writeFileSync(target, contentOf(fd, entry), { flag: "wx", mode: entry.mode });
    }
    return entries.length;
  } finally {
    closeSync(fd);
  }
}
