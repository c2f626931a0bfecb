/**
 * hostPath volumes (upstream pkg/volume/hostpath): the host path itself is mounted; `type`
 * checks what is there first, and the *OrCreate types create it (a directory 0755 with its
 * parents, a file 0644 whose parent must already exist).
 */
import type { Stats } from "node:fs";
import { chmod, mkdir, open, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { errnoOf } from "./errors.js";

export const HOST_PATH_TYPES = [
  "",
  "DirectoryOrCreate",
  "Directory",
  "FileOrCreate",
  "File",
  "Socket",
  "CharDevice",
  "BlockDevice",
] as const;

export type HostPathType = (typeof HOST_PATH_TYPES)[number];

/** What is at a path, classified as upstream's hostutil GetFileType does (following symlinks). */
export type FileKind = "Directory" | "Socket" | "CharDevice" | "BlockDevice" | "File";

export function fileKind(st: Stats): FileKind {
  if (st.isDirectory()) return "Directory";
  if (st.isSocket()) return "Socket";
  if (st.isCharacterDevice()) return "CharDevice";
  if (st.isBlockDevice()) return "BlockDevice";
  return "File";
}

/** The check of an existing path (undefined: it passes), upstream's checkTypeInternal messages. */
export function typeCheckError(path: string, type: HostPathType, kind: FileKind | undefined): string | undefined {
  switch (type) {
    case "":
      return undefined;
    case "DirectoryOrCreate":
    case "Directory":
      return kind === "Directory" ? undefined : `hostPath type check failed: ${path} is not a directory`;
    case "FileOrCreate":
    case "File":
      return kind === "File" ? undefined : `hostPath type check failed: ${path} is not a file`;
    case "Socket":
      return kind === "Socket" ? undefined : `hostPath type check failed: ${path} is not a socket file`;
    case "CharDevice":
      return kind === "CharDevice" ? undefined : `hostPath type check failed: ${path} is not a character device`;
    case "BlockDevice":
      return kind === "BlockDevice" ? undefined : `hostPath type check failed: ${path} is not a block device`;
  }
}

async function kindAt(path: string): Promise<FileKind | undefined> {
  try {
    return fileKind(await stat(path));
  } catch (err) {
    if (errnoOf(err) === "ENOENT" || errnoOf(err) === "ENOTDIR") return undefined;
    throw err;
  }
}

/** mkdir -p, every directory it creates getting exactly `mode`. */
async function mkdirAllMode(path: string, mode: number): Promise<void> {
  const missing: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    if ((await kindAt(p)) !== undefined || p === dirname(p)) break;
    missing.unshift(p);
  }
  for (const p of missing) {
    try {
      await mkdir(p, mode);
      await chmod(p, mode);
    } catch (err) {
      if (errnoOf(err) !== "EEXIST") throw err;
    }
  }
}

/**
 * Sets up a hostPath volume: validates the path, creates it for the *OrCreate types, then checks
 * its type. Throws with upstream's message; resolves with what is there (for file mounts).
 */
export async function setUpHostPath(path: string, typeField: unknown): Promise<FileKind | undefined> {
  if (path.split("/").includes("..")) throw new Error(`invalid HostPath \`${path}\`: must not contain '..'`);
  const type = typeof typeField === "string" ? typeField : "";
  if (!(HOST_PATH_TYPES as readonly string[]).includes(type)) throw new Error(`${type} is an invalid volume type`);
  const t = type as HostPathType;
  let kind = await kindAt(path);
  if (kind === undefined && t === "DirectoryOrCreate") {
    await mkdirAllMode(path, 0o755);
    kind = await kindAt(path);
  } else if (kind === undefined && t === "FileOrCreate") {
    try {
      const fh = await open(path, "wx", 0o644);
      try {
        await fh.chmod(0o644);
      } finally {
        await fh.close();
      }
    } catch (err) {
      if (errnoOf(err) !== "EEXIST") throw err;
    }
    kind = await kindAt(path);
  }
  const why = typeCheckError(path, t, kind);
  if (why) throw new Error(why);
  return kind;
}
