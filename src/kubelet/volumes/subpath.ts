/**
 * volumeMounts[].subPath (upstream pkg/volume/util/subpath, subpath_linux.go), written so the
 * CVE-2017-1002101 / CVE-2021-25741 kind of escape cannot happen: the subpath is resolved, checked
 * to be inside the volume, then opened component by component without following symlinks, and
 * exactly the inode that was opened is bind-mounted (through /proc/<pid>/fd/<fd>) at
 * `<pod>/volume-subpaths/<volume>/<container>/<index>`, which is what the runtime mounts. A
 * container swapping a directory for a symlink after the check changes nothing: the mount was
 * made from the descriptor, not from the path.
 */
import { lstat, mkdir, readdir, realpath, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { errnoOf, errorText } from "./errors.js";
import { isWithin } from "./layout.js";
import { bindMountFd, isMountPoint, readMounts, unmount } from "./mount.js";
import { openInside } from "./safe-path.js";

/**
 * Expands `$(VAR)` in a subPathExpr from the container's environment (`$$` is a literal `$`);
 * a variable that is missing or empty is an error, as upstream ExpandContainerVolumeMounts.
 */
export function expandSubPathExpr(expr: string, env: Record<string, string>): string {
  const missing = new Set<string>();
  let out = "";
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c !== "$" || i + 1 >= expr.length) {
      out += c;
      continue;
    }
    const next = expr[i + 1]!;
    if (next === "$") {
      out += "$";
      i++;
      continue;
    }
    if (next === "(") {
      const close = expr.indexOf(")", i + 2);
      if (close < 0) {
        out += expr.slice(i);
        break;
      }
      const name = expr.slice(i + 2, close);
      const value = Object.hasOwn(env, name) ? env[name]! : "";
      if (value === "") missing.add(name);
      out += value;
      i = close;
      continue;
    }
    out += c;
  }
  if (missing.size > 0) throw new Error(`missing value for ${[...missing].sort().join(", ")}`);
  return out;
}

/** Syntax checks of a subPath before anything touches the disk (upstream makeMounts' messages). */
export function subPathSyntaxError(subPath: string): string | undefined {
  if (subPath.startsWith("/")) return `error SubPath \`${subPath}\` must not be an absolute path`;
  if (subPath.split("/").includes("..")) return `unable to provision SubPath \`${subPath}\`: must not contain '..'`;
  if (subPath.includes("\0")) return `unable to provision SubPath \`${subPath}\`: must not contain NUL`;
  return undefined;
}

export interface SubPathRequest {
  /** The volume's directory on the host. */
  volumePath: string;
  /** Relative path inside the volume (already syntax-checked). */
  subPath: string;
  /** Where the pinned bind mount goes: <pod>/volume-subpaths/<volume>/<container>/<index>. */
  target: string;
}

/** Points in the preparation where tests can act like a hostile container. */
export interface SubPathHooks {
  /** After the path was resolved and checked, before it is opened. */
  afterResolve?: () => Promise<void>;
  /** After the path was opened, before the descriptor is bind-mounted. */
  afterOpen?: () => Promise<void>;
}

export interface PreparedSubPath {
  /** The host path to give the runtime (the bind mount target). */
  hostPath: string;
  /** The subpath is not a directory (the runtime bind-mounts a file). */
  file: boolean;
}

/**
 * Resolves, verifies and pins a subpath (upstream doBindSubPath). Throws with a detailed,
 * host-path-naming message: callers show users only the generic one.
 */
export async function prepareSubPath(req: SubPathRequest, hooks: SubPathHooks = {}): Promise<PreparedSubPath> {
  let volumeReal: string;
  let pathReal: string;
  try {
    volumeReal = await realpath(req.volumePath);
  } catch (err) {
    throw new Error(`error resolving symlinks in ${JSON.stringify(req.volumePath)}: ${errorText(err)}`);
  }
  const joined = join(req.volumePath, req.subPath);
  try {
    pathReal = await realpath(joined);
  } catch (err) {
    throw new Error(`error resolving symlinks in ${JSON.stringify(joined)}: ${errorText(err)}`);
  }
  if (!isWithin(pathReal, volumeReal)) {
    throw new Error(`subpath ${JSON.stringify(pathReal)} not within volume path ${JSON.stringify(volumeReal)}`);
  }
  await hooks.afterResolve?.();
  let fh: Awaited<ReturnType<typeof openInside>>;
  try {
    fh = await openInside(volumeReal, pathReal);
  } catch (err) {
    throw new Error(`error opening subpath ${pathReal}: ${errorText(err)}`);
  }
  try {
    const pinned = await fh.stat();
    const file = !pinned.isDirectory();
    await hooks.afterOpen?.();
    const target = req.target;
    if (isMountPoint(await readMounts(), target)) {
      const cur = await stat(target);
      if (cur.dev === pinned.dev && cur.ino === pinned.ino) return { hostPath: target, file };
      // mounted, but not what we want (the subpath changed since): replace it
      await unmount(target);
    }
    await mkdir(dirname(target), { recursive: true, mode: 0o750 });
    await ensureTarget(target, file);
    try {
      await bindMountFd(fh.fd, target);
    } catch (err) {
      await removeTarget(target).catch(() => undefined);
      throw new Error(`error mounting ${pathReal}: ${errorText(err)}`);
    }
    return { hostPath: target, file };
  } finally {
    await fh.close();
  }
}

/** An empty directory or file to mount over (a file serves every non-directory type). */
async function ensureTarget(target: string, file: boolean): Promise<void> {
  try {
    const st = await lstat(target);
    if (st.isDirectory() === !file && (st.isDirectory() || st.isFile())) return;
    await removeTarget(target);
  } catch (err) {
    if (errnoOf(err) !== "ENOENT") throw err;
  }
  if (file) await writeFile(target, "", { mode: 0o640, flag: "wx" });
  else await mkdir(target, 0o750);
}

/** Removes an (unmounted) subpath target: only an empty directory or a file, never a tree. */
async function removeTarget(target: string): Promise<void> {
  const st = await lstat(target);
  if (st.isDirectory()) await rmdir(target);
  else await unlink(target);
}

/**
 * Unmounts and removes every subpath target below `dir` (<pod>/volume-subpaths), deepest mounts
 * first (upstream CleanSubPaths). Targets are removed only once nothing is mounted on them, and
 * only as empty directories or files.
 */
export async function cleanSubPaths(dir: string): Promise<void> {
  for (let round = 0; round < 64; round++) {
    const mounted = (await readMounts()).filter((m) => isWithin(m.mountPoint, dir) && m.mountPoint !== dir);
    const last = mounted.at(-1);
    if (!last) break;
    await unmount(last.mountPoint);
  }
  const remaining = (await readMounts()).filter((m) => isWithin(m.mountPoint, dir) && m.mountPoint !== dir);
  if (remaining.length > 0) throw new Error(`subpath mounts remain below ${dir}: ${remaining[0]!.mountPoint}`);
  // <dir>/<volume>/<container>/<index>
  const list = async (p: string) => {
    try {
      return await readdir(p);
    } catch (err) {
      if (errnoOf(err) === "ENOENT" || errnoOf(err) === "ENOTDIR") return [];
      throw err;
    }
  };
  for (const vol of await list(dir)) {
    for (const ctr of await list(join(dir, vol))) {
      for (const idx of await list(join(dir, vol, ctr))) await removeTarget(join(dir, vol, ctr, idx));
      await rmdir(join(dir, vol, ctr));
    }
    await rmdir(join(dir, vol));
  }
  await rmdir(dir).catch((err: unknown) => {
    if (errnoOf(err) !== "ENOENT") throw err;
  });
}
