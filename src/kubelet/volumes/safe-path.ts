/**
 * Path walking that cannot be redirected by symlinks (upstream pkg/volume/util/subpath
 * doSafeOpen / doSafeMakeDir). Node has no openat(2), but opening
 * `/proc/self/fd/<dirfd>/<name>` resolves `<name>` inside exactly the directory `dirfd` refers
 * to, and O_NOFOLLOW makes a symlink there fail to resolve: together they are openat(dirfd,
 * name, O_NOFOLLOW). Every component is opened that way, so a path verified here is the path
 * used, whatever a container does to the volume meanwhile.
 */
import { constants, type Stats } from "node:fs";
import { type FileHandle, lstat, mkdir, open, readdir, realpath, rm, rmdir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { errnoOf, errorText } from "./errors.js";
import { isWithin } from "./layout.js";

/** O_PATH (Linux): a descriptor naming an inode without opening it (no FIFO hangs, no read permission needed). */
const O_PATH = 0o10000000;
const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;

function fdPath(fh: FileHandle, name: string): string {
  return `/proc/self/fd/${fh.fd}/${name}`;
}

function segmentsOf(base: string, target: string): string[] {
  const rel = relative(base, target);
  return rel === "" ? [] : rel.split(sep).filter((s) => s !== "" && s !== ".");
}

/**
 * Opens `target` (absolute, symlink-free, inside `base`) component by component from `base`
 * without following any symlink; the caller owns (and closes) the returned handle, an O_PATH
 * descriptor of exactly the inode that was checked.
 */
export async function openInside(base: string, target: string): Promise<FileHandle> {
  if (!isWithin(target, base)) throw new Error(`path ${target} is outside of allowed base ${base}`);
  let parent: FileHandle;
  try {
    // the base is the one directory we trust; it must not be a symlink itself
    parent = await open(base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (err) {
    throw new Error(`cannot open directory ${base}: ${errorText(err)}`);
  }
  let current = base;
  try {
    for (const seg of segmentsOf(base, target)) {
      if (seg === "..") throw new Error(`path ${join(current, seg)} is outside of allowed base ${base}`);
      current = join(current, seg);
      let child: FileHandle;
      try {
        child = await open(fdPath(parent, seg), O_PATH | O_NOFOLLOW);
      } catch (err) {
        throw new Error(`cannot open ${current}: ${errorText(err)}`);
      }
      try {
        const st = await child.stat();
        if (st.isSymbolicLink()) throw new Error(`unexpected symlink found ${current}`);
      } catch (err) {
        await child.close();
        throw err;
      }
      await parent.close();
      parent = child;
    }
    return parent;
  } catch (err) {
    await parent.close().catch(() => undefined);
    throw err;
  }
}

/**
 * Creates `rel` (and missing parents) inside `base` with `mode`, never through a symlink that
 * leads out of `base` (upstream SafeMakeDir). Existing directories may be symlinks inside base;
 * every directory created is opened without following symlinks and chmod-ed through its
 * descriptor, so the mode is not subject to the umask.
 */
export async function safeMakeDir(base: string, rel: string, mode: number): Promise<void> {
  const target = join(base, rel);
  if (!isWithin(target, base)) throw new Error(`path ${target} is outside of allowed base ${base}`);
  try {
    const st = await stat(target);
    if (st.isDirectory()) return;
    throw new Error(`mkdir ${target}: not a directory`);
  } catch (err) {
    if (errnoOf(err) !== "ENOENT") throw err;
  }
  // the longest prefix that exists (resolving symlinks: they are checked below)
  const parts = segmentsOf(base, target);
  let existing = base;
  let i = 0;
  for (; i < parts.length; i++) {
    const next = join(existing, parts[i]!);
    try {
      await stat(next);
      existing = next;
    } catch (err) {
      if (errnoOf(err) === "ENOENT") break;
      throw new Error(`error opening directory ${next}: ${errorText(err)}`);
    }
  }
  const toCreate = parts.slice(i);
  const realBase = await realpath(base);
  let realExisting: string;
  try {
    realExisting = await realpath(existing);
  } catch (err) {
    throw new Error(`error opening directory ${existing}: ${errorText(err)}`);
  }
  if (!isWithin(realExisting, realBase)) {
    throw new Error(`path ${realExisting} is outside of allowed base ${realBase}`);
  }
  let parent = await openInside(realBase, realExisting);
  try {
    let current = realExisting;
    for (const dir of toCreate) {
      current = join(current, dir);
      try {
        await mkdir(fdPath(parent, dir), mode);
      } catch (err) {
        throw new Error(`cannot create directory ${current}: ${errorText(err)}`);
      }
      let child: FileHandle;
      try {
        // someone may swap the new directory for something else before this open: a symlink
        // fails here (O_NOFOLLOW), anything else is mounted into a container that could reach it anyway
        child = await open(fdPath(parent, dir), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      } catch (err) {
        throw new Error(`cannot open ${current}: ${errorText(err)}`);
      }
      await parent.close();
      parent = child;
      try {
        await child.chmod(mode);
      } catch (err) {
        throw new Error(`chmod ${JSON.stringify(current)} failed: ${errorText(err)}`);
      }
    }
  } finally {
    await parent.close().catch(() => undefined);
  }
}

/**
 * Removes `path` and everything below it without following symlinks and without touching what
 * is mounted below it: a path in `mountPoints` (the mount table's, read by the caller just
 * before) or a directory on another device than `path` stops the removal with an error instead
 * of deleting the mounted content.
 */
export async function removeAllNoCross(path: string, mountPoints: ReadonlySet<string>): Promise<void> {
  let top: Stats;
  try {
    top = await lstat(path);
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return;
    throw err;
  }
  await removeTree(path, top.dev, mountPoints);
}

async function removeTree(path: string, dev: number, mountPoints: ReadonlySet<string>): Promise<void> {
  if (mountPoints.has(path)) throw new Error(`refusing to remove ${path}: it is a mount point`);
  const st = await lstat(path);
  if (!st.isDirectory()) {
    await rm(path, { force: true });
    return;
  }
  if (st.dev !== dev) throw new Error(`refusing to remove ${path}: it is a mount point`);
  for (const name of await readdir(path)) await removeTree(join(path, name), dev, mountPoints);
  await rmdir(path);
}
