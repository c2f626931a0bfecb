/**
 * What the PV controller itself does to a released volume's storage (upstream's in-tree recycler
 * and deleter for hostPath and nfs): Recycle scrubs the contents (`rm -rf <volume>/*`, never
 * following a symlink out of the volume nor crossing into a mount), Delete of a static hostPath
 * volume removes it under /tmp only, as upstream's hostPath deleter. Nothing here runs a shell.
 */
import { lstat, readdir } from "node:fs/promises";
import { join, normalize, posix, resolve } from "node:path";
import { type NfsExport, specOf } from "../../../api/storage.js";
import { isRecord, type KObject } from "../../../api/types.js";
import { readMounts } from "../../../kubelet/volumes/mount.js";
import { removeAllNoCross } from "../../../kubelet/volumes/safe-path.js";

export type { NfsExport };

/** The local directory of an nfs volume source, when its export is declared; undefined otherwise. */
export function nfsLocalPath(exports: readonly NfsExport[], server: string, path: string): string | undefined {
  const p = posix.normalize(path);
  for (const e of exports) {
    if (e.server !== server) continue;
    const base = posix.normalize(e.path).replace(/\/+$/, "");
    if (p !== base && !p.startsWith(`${base}/`)) continue;
    const rest = p.slice(base.length).replace(/^\/+/, "");
    const local = resolve(e.root, rest);
    if (local !== resolve(e.root) && !local.startsWith(`${resolve(e.root)}/`)) return undefined;
    return local;
  }
  return undefined;
}

/** Directories a recycler never scrubs: the root and the top-level system directories. */
function tooBroad(path: string): boolean {
  const n = normalize(path).replace(/\/+$/, "");
  return n === "" || n.split("/").filter((c) => c !== "").length < 2;
}

async function scrub(dir: string, protectedPaths: readonly string[]): Promise<void> {
  if (tooBroad(dir)) throw new Error(`refusing to scrub ${dir}: it is a system directory`);
  for (const p of protectedPaths) {
    const r = resolve(p);
    if (resolve(dir) === r || resolve(dir).startsWith(`${r}/`) || r.startsWith(`${resolve(dir)}/`)) {
      throw new Error(`refusing to scrub ${dir}: it holds k8ts's own data`);
    }
  }
  const st = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  // nothing there: nothing to scrub (upstream's recycler pod would find an empty directory)
  if (!st) return;
  if (st.isSymbolicLink()) throw new Error(`refusing to scrub ${dir}: it is a symbolic link`);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  const mounts = new Set((await readMounts().catch(() => [])).map((m) => m.mountPoint));
  for (const name of await readdir(dir)) await removeAllNoCross(join(dir, name), mounts);
}

export interface ReclaimOptions {
  nfsExports?: readonly NfsExport[];
  /** Paths no recycle or delete may touch (the data directory). */
  protectedPaths?: readonly string[];
}

/** Recycle: the volume's contents go, the volume stays. Throws with the reason (the controller's event). */
export async function recycleVolume(pv: KObject, opts: ReclaimOptions): Promise<void> {
  const spec = specOf(pv);
  const hp = spec["hostPath"];
  const nfs = spec["nfs"];
  if (isRecord(hp) && typeof hp["path"] === "string") {
    await scrub(hp["path"], opts.protectedPaths ?? []);
    return;
  }
  if (isRecord(nfs) && typeof nfs["path"] === "string") {
    const server = String(nfs["server"] ?? "");
    const local = nfsLocalPath(opts.nfsExports ?? [], server, nfs["path"]);
    if (!local) {
      throw new Error(
        `the NFS export holding ${server}:${nfs["path"]} is not available on this server (declare it with --nfs-export)`,
      );
    }
    await scrub(local, opts.protectedPaths ?? []);
    return;
  }
  throw new NoPluginError("No recycler plugin found for the volume!");
}

/** The volume type has no in-tree plugin for the operation. */
export class NoPluginError extends Error {}

/** Delete of a volume no provisioner made: hostPath under /tmp only (upstream's hostPath deleter); others have no deleter. */
export async function deleteStaticVolume(pv: KObject, opts: ReclaimOptions): Promise<void> {
  const hp = specOf(pv)["hostPath"];
  if (isRecord(hp) && typeof hp["path"] === "string") {
    const path = hp["path"];
    if (!/\/tmp\/.+/.test(path)) {
      throw new Error(`host_path deleter only supports /tmp/.+ but received provided ${path}`);
    }
    for (const p of opts.protectedPaths ?? []) {
      const r = resolve(p);
      if (resolve(path) === r || r.startsWith(`${resolve(path)}/`)) {
        throw new Error(`refusing to delete ${path}: it holds k8ts's own data`);
      }
    }
    const st = await lstat(path).catch(() => undefined);
    if (!st) return;
    const mounts = new Set((await readMounts().catch(() => [])).map((m) => m.mountPoint));
    await removeAllNoCross(path, mounts);
    return;
  }
  throw new NoPluginError(
    `error getting deleter volume plugin for volume "${pv.metadata.name ?? ""}": no deletable volume plugin matched`,
  );
}
