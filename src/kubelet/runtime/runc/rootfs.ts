/**
 * A container's root filesystem while there is no image store: a copy-on-write overlay of the
 * host's root filesystem (lowerdir=/, an upper and work dir per container), so the container can
 * write anywhere without touching the host. Only the root filesystem itself is in the overlay; the
 * host's other mounts (/proc, /dev, /sys, tmpfs, ...) are not, and runc mounts fresh ones.
 *
 * Without root no overlay of / can be mounted (see ./rootless.ts), so a rootless container's root
 * is a directory of its own holding, for each top-level entry of the host's /, the same symlink or
 * an empty mount point that runc bind-mounts the host's entry on, recursively read-only (`rro`);
 * /proc, /dev, /sys, /run and /tmp are left empty for runc's own mounts and private tmpfs.
 *
 * Removal never follows into a mount: a container directory is deleted only once nothing under it
 * is mounted any more (else `rm -r` would walk into the overlay).
 */
import {
  chmodSync,
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { join } from "node:path";
import { runTool } from "../../network/command.js";
import { parseMountinfo } from "./cgroups.js";
import type { OciMount } from "./spec.js";

export interface OverlayDirs {
  upper: string;
  work: string;
  merged: string;
}

/** Mount points at or under `dir` (deepest first), from /proc/self/mountinfo. */
export function mountsUnder(dir: string, mountinfo?: string): string[] {
  const text = mountinfo ?? readFileSync("/proc/self/mountinfo", "utf8");
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  return parseMountinfo(text)
    .map((m) => m.mountPoint)
    .filter((p) => p === dir || p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/** The overlay's mount options (paths with a comma or colon would break them and are refused). */
export function overlayOptions(lower: string, dirs: OverlayDirs): string {
  for (const p of [lower, dirs.upper, dirs.work]) {
    if (/[,:\\]/.test(p)) throw new Error(`overlay path "${p}" contains ',', ':' or '\\'`);
  }
  return `lowerdir=${lower},upperdir=${dirs.upper},workdir=${dirs.work}`;
}

export async function mountOverlay(dirs: OverlayDirs, lower = "/"): Promise<void> {
  // the upper dir's root is the container's "/": it must be 0755 like the host's, or non-root users cannot resolve a path
  mkdirSync(dirs.upper, { recursive: true, mode: 0o755 });
  chmodSync(dirs.upper, 0o755);
  for (const d of [dirs.work, dirs.merged]) mkdirSync(d, { recursive: true, mode: 0o700 });
  if (mountsUnder(dirs.merged).includes(dirs.merged)) return;
  const r = await runTool("mount", ["-t", "overlay", "overlay", "-o", overlayOptions(lower, dirs), dirs.merged]);
  if (r.code !== 0) throw new Error(`cannot mount the overlay root filesystem: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/** Unmounts everything under `dir` (lazily when busy). Returns what could not be unmounted. */
export async function unmountAll(dir: string): Promise<string[]> {
  const failed: string[] = [];
  for (const mp of mountsUnder(dir)) {
    const r = await runTool("umount", [mp]);
    if (r.code === 0) continue;
    const lazy = await runTool("umount", ["-l", mp]);
    if (lazy.code !== 0 && mountsUnder(mp).includes(mp)) failed.push(`${mp}: ${lazy.stderr.trim()}`);
  }
  return failed;
}

/** Deletes `dir` after unmounting what is under it; refuses while anything is still mounted there. */
export async function removeUnmounted(dir: string): Promise<void> {
  const failed = await unmountAll(dir);
  if (failed.length > 0) throw new Error(`cannot remove ${dir}: still mounted: ${failed.join("; ")}`);
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`cannot remove ${dir}: still mounted: ${left.join(", ")}`);
  rmSync(dir, { recursive: true, force: true });
}

/** A top-level entry of the host's root directory. */
export interface RootEntry {
  name: string;
  kind: "dir" | "symlink" | "file" | "other";
  /** The link's target, for symlinks. */
  target?: string;
}

/** How a rootless container's root directory is laid out over the host's / (see the header). */
export interface HostRootPlan {
  /** Empty directories to make in the container's root (mount points). */
  dirs: string[];
  /** Symlinks to copy as they are (Debian's /bin -> usr/bin and the like). */
  symlinks: Array<{ name: string; target: string }>;
  /** Empty files to make (mount points for the host's top-level files). */
  files: string[];
  /** The host's entries, bind-mounted read-only at the same place (runc makes these first). */
  mounts: OciMount[];
}

/** Top-level directories that get the runtime's own mounts (proc, a tmpfs /dev, sysfs, tmpfs), not the host's. */
export const RUNTIME_MOUNTED_DIRS: readonly string[] = ["proc", "dev", "sys", "run", "tmp"];

/** The layout of a rootless container's root from the host's top-level entries. Pure. */
export function hostRootPlan(entries: RootEntry[]): HostRootPlan {
  const plan: HostRootPlan = { dirs: [...RUNTIME_MOUNTED_DIRS], symlinks: [], files: [], mounts: [] };
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of sorted) {
    if (!e.name || e.name === "." || e.name === ".." || e.name.includes("/") || e.name.includes("\0")) continue;
    if (RUNTIME_MOUNTED_DIRS.includes(e.name)) continue;
    const at = `/${e.name}`;
    if (e.kind === "symlink" && e.target !== undefined) plan.symlinks.push({ name: e.name, target: e.target });
    else if (e.kind === "dir") {
      plan.dirs.push(e.name);
      plan.mounts.push({ destination: at, type: "bind", source: at, options: ["rbind", "rprivate", "rro"] });
    } else if (e.kind === "file") {
      plan.files.push(e.name);
      plan.mounts.push({ destination: at, type: "bind", source: at, options: ["bind", "rprivate", "ro"] });
    }
  }
  return plan;
}

/** The host's top-level entries (what lstat says of each). */
export function readHostRoot(root = "/"): RootEntry[] {
  const out: RootEntry[] = [];
  for (const name of readdirSync(root)) {
    const p = join(root, name);
    try {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.push({ name, kind: "symlink", target: readlinkSync(p) });
      else if (st.isDirectory()) out.push({ name, kind: "dir" });
      else if (st.isFile()) out.push({ name, kind: "file" });
      else out.push({ name, kind: "other" });
    } catch {
      // vanished meanwhile
    }
  }
  return out;
}

/** Makes the plan's mount points and symlinks in `rootfs` (a new, empty directory of the container's). */
export function prepareHostRoot(rootfs: string, plan: HostRootPlan): void {
  mkdirSync(rootfs, { recursive: true, mode: 0o755 });
  chmodSync(rootfs, 0o755);
  for (const d of plan.dirs) mkdirSync(join(rootfs, d), { recursive: true, mode: 0o755 });
  for (const l of plan.symlinks) {
    rmSync(join(rootfs, l.name), { force: true });
    symlinkSync(l.target, join(rootfs, l.name));
  }
  for (const f of plan.files) closeSync(openSync(join(rootfs, f), "a", 0o644));
}
