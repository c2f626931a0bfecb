/**
 * File work inside the directory where the export is mounted, by descriptor: the root is opened
 * once, then every component below it relative to its parent's descriptor with O_NOFOLLOW (Node
 * has no openat(2); `/proc/self/fd/<fd>/<name>` resolves `<name>` in exactly the directory the
 * descriptor holds). A symlink anywhere below the root — planted by a pod that writes to the
 * volume — is refused when walking and removed (never followed) when deleting, so nothing outside
 * the root is ever created, renamed or deleted. No shell is involved.
 */
import { constants, type Stats } from "node:fs";
import { type FileHandle, lstat, mkdir, open, readdir, rename, rmdir, unlink } from "node:fs/promises";
import { join } from "node:path";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;

/** A path refused because following it could leave the root (a symlink, a non-directory, a mount). */
export class UnsafePathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsafePathError";
  }
}

function errno(err: unknown): string | undefined {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

function at(dir: FileHandle, name: string): string {
  return `/proc/self/fd/${dir.fd}/${name}`;
}

/** Why `name` in `dir` (shown as `shown`) could not be opened as a directory. */
async function notADirectory(dir: FileHandle, name: string, shown: string): Promise<Error> {
  try {
    const st = await lstat(at(dir, name));
    if (st.isSymbolicLink()) return new UnsafePathError(`refusing to follow the symbolic link ${shown}`);
  } catch {
    // fall through
  }
  return new UnsafePathError(`${shown} is not a directory`);
}

/** Opens `name` inside `dir` as a directory without following a symlink; undefined when absent. */
async function openChild(dir: FileHandle, name: string, shown: string): Promise<FileHandle | undefined> {
  try {
    return await open(at(dir, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (err) {
    const code = errno(err);
    if (code === "ENOENT") return undefined;
    if (code === "ENOTDIR" || code === "ELOOP") throw await notADirectory(dir, name, shown);
    throw new Error(`cannot open ${shown}: ${code ?? String(err)}`);
  }
}

async function openRoot(root: string): Promise<FileHandle> {
  try {
    return await open(root, O_RDONLY | O_DIRECTORY);
  } catch (err) {
    throw new Error(`cannot open the export's mount ${root}: ${errno(err) ?? String(err)}`);
  }
}

/**
 * The directory holding the last of `segments` (opened), with that last name; undefined when a
 * component on the way is missing. The caller closes the handle.
 */
async function openParent(
  root: string,
  segments: readonly string[],
): Promise<{ parent: FileHandle; name: string; shown: string } | undefined> {
  if (segments.length === 0) throw new UnsafePathError("refusing to act on the export root itself");
  let dir = await openRoot(root);
  let shown = root;
  try {
    for (const seg of segments.slice(0, -1)) {
      shown = join(shown, seg);
      const child = await openChild(dir, seg, shown);
      if (!child) {
        await dir.close();
        return undefined;
      }
      await dir.close();
      dir = child;
    }
  } catch (err) {
    await dir.close().catch(() => undefined);
    throw err;
  }
  const name = segments[segments.length - 1] ?? "";
  return { parent: dir, name, shown: join(shown, name) };
}

/**
 * Creates `segments` below `root` (mkdir -p) with `mode`; as upstream (MkdirAll, then Chmod of the
 * volume's directory) the umask narrows the parents it creates, and the last directory is
 * chmod-ed to `mode` through its descriptor, even when it existed.
 */
export async function makeDirInside(root: string, segments: readonly string[], mode: number): Promise<void> {
  if (segments.length === 0) throw new UnsafePathError("refusing to act on the export root itself");
  let dir = await openRoot(root);
  let shown = root;
  try {
    for (const seg of segments) {
      shown = join(shown, seg);
      let child = await openChild(dir, seg, shown);
      if (!child) {
        try {
          await mkdir(at(dir, seg), mode);
        } catch (err) {
          if (errno(err) !== "EEXIST")
            throw new Error(`cannot create directory ${shown}: ${errno(err) ?? String(err)}`);
        }
        // whatever is there now is checked again: a symlink swapped in meanwhile is refused
        child = await openChild(dir, seg, shown);
        if (!child) throw new Error(`cannot create directory ${shown}: it vanished`);
      }
      await dir.close();
      dir = child;
    }
    await dir.chmod(mode);
  } finally {
    await dir.close().catch(() => undefined);
  }
}

/** Whether something (of any type) is at `segments` below `root`, reached without following a symlink. */
export async function presentInside(root: string, segments: readonly string[]): Promise<boolean> {
  const p = await openParent(root, segments);
  if (!p) return false;
  try {
    await lstat(at(p.parent, p.name));
    return true;
  } catch (err) {
    if (errno(err) === "ENOENT") return false;
    throw err;
  } finally {
    await p.parent.close();
  }
}

/**
 * Removes what is at `segments` below `root` and everything under it; a symlink is unlinked, never
 * followed; a directory on another device (something mounted inside) stops the removal. False
 * when nothing was there.
 */
export async function removeInside(root: string, segments: readonly string[]): Promise<boolean> {
  const p = await openParent(root, segments);
  if (!p) return false;
  try {
    const st = await p.parent.stat();
    return await removeEntry(p.parent, p.name, p.shown, st.dev);
  } finally {
    await p.parent.close();
  }
}

async function removeEntry(dir: FileHandle, name: string, shown: string, dev: number): Promise<boolean> {
  const path = at(dir, name);
  let st: Stats;
  try {
    st = await lstat(path);
  } catch (err) {
    if (errno(err) === "ENOENT") return false;
    throw err;
  }
  if (!st.isDirectory()) {
    // a file, a socket, a symlink (the link goes, not what it points to)
    try {
      await unlink(path);
    } catch (err) {
      if (errno(err) !== "ENOENT") throw new Error(`cannot remove ${shown}: ${errno(err) ?? String(err)}`);
    }
    return true;
  }
  if (st.dev !== dev) throw new UnsafePathError(`refusing to remove ${shown}: another file system is mounted there`);
  const child = await openChild(dir, name, shown);
  if (!child) return false;
  try {
    const cst = await child.stat();
    if (cst.ino !== st.ino || cst.dev !== st.dev)
      throw new UnsafePathError(`refusing to remove ${shown}: it changed meanwhile`);
    for (const entry of await readdir(`/proc/self/fd/${child.fd}`)) {
      await removeEntry(child, entry, join(shown, entry), dev);
    }
  } finally {
    await child.close();
  }
  try {
    await rmdir(path);
  } catch (err) {
    if (errno(err) !== "ENOENT") throw new Error(`cannot remove ${shown}: ${errno(err) ?? String(err)}`);
  }
  return true;
}

/** Renames what is at `segments` below `root` to `newName` in the same directory; false when nothing was there. */
export async function renameInside(root: string, segments: readonly string[], newName: string): Promise<boolean> {
  if (newName === "" || newName === "." || newName === ".." || newName.includes("/") || newName.includes("\0")) {
    throw new Error(`invalid name ${JSON.stringify(newName)}`);
  }
  const p = await openParent(root, segments);
  if (!p) return false;
  try {
    await rename(at(p.parent, p.name), at(p.parent, newName));
    return true;
  } catch (err) {
    if (errno(err) === "ENOENT") return false;
    throw new Error(`cannot rename ${p.shown} to ${newName}: ${errno(err) ?? String(err)}`);
  } finally {
    await p.parent.close();
  }
}
