/**
 * A container's root filesystem while there is no image store: a copy-on-write overlay of the
 * host's root filesystem (lowerdir=/, an upper and work dir per container), so the container can
 * write anywhere without touching the host. Only the root filesystem itself is in the overlay; the
 * host's other mounts (/proc, /dev, /sys, tmpfs, ...) are not, and runc mounts fresh ones.
 *
 * Removal never follows into a mount: a container directory is deleted only once nothing under it
 * is mounted any more (else `rm -r` would walk into the overlay).
 */
import { chmodSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { runTool } from "../../network/command.js";
import { parseMountinfo } from "./cgroups.js";

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
