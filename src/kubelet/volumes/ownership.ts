/**
 * Pod-level volume ownership (upstream pkg/volume/volume_linux.go SetVolumeOwnership and
 * pkg/volume/util FsUserFrom): with `securityContext.fsGroup`, everything in a volume gets that
 * group and group access (read-only volumes r, others rw; directories also x and setgid).
 */
import { chmod, lchown, lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { isRecord, type KObject } from "../../api/types.js";

const RW_MASK = 0o660;
const RO_MASK = 0o440;
const EXEC_MASK = 0o110;
const SETGID = 0o2000;

export interface PodOwnership {
  fsGroup?: number;
  /** "Always" (default) or "OnRootMismatch". */
  changePolicy: string;
  /** The run-as user every container shares, if they all share one (token files are given to it). */
  fsUser?: number;
}

function int(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined;
}

/** fsGroup, fsGroupChangePolicy and the common runAsUser of a pod. */
export function podOwnership(pod: KObject): PodOwnership {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const psc = isRecord(spec["securityContext"]) ? spec["securityContext"] : {};
  const out: PodOwnership = {
    changePolicy: typeof psc["fsGroupChangePolicy"] === "string" ? psc["fsGroupChangePolicy"] : "Always",
  };
  const fsGroup = int(psc["fsGroup"]);
  if (fsGroup !== undefined) out.fsGroup = fsGroup;
  const fsUser = fsUserFrom(pod);
  if (fsUser !== undefined) out.fsUser = fsUser;
  return out;
}

/** Upstream FsUserFrom: the effective runAsUser of every init and app container, when they all agree. */
export function fsUserFrom(pod: KObject): number | undefined {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const psc = isRecord(spec["securityContext"]) ? spec["securityContext"] : {};
  const containers = [
    ...(Array.isArray(spec["initContainers"]) ? spec["initContainers"] : []),
    ...(Array.isArray(spec["containers"]) ? spec["containers"] : []),
  ].filter(isRecord);
  let user: number | undefined;
  for (const c of containers) {
    const sc = isRecord(c["securityContext"]) ? c["securityContext"] : {};
    const u = int(sc["runAsUser"]) ?? int(psc["runAsUser"]);
    if (u === undefined || (user !== undefined && user !== u)) return undefined;
    user = u;
  }
  return user;
}

/** The mode ownership management gives a file or directory. */
export function ownedMode(mode: number, isDir: boolean, readOnly: boolean): number {
  let mask = readOnly ? RO_MASK : RW_MASK;
  if (isDir) mask |= SETGID | EXEC_MASK;
  return (mode & 0o7777) | mask;
}

/**
 * Applies fsGroup to `dir` and everything below it, never following symlinks (they get the
 * group, not a mode). With OnRootMismatch nothing is done when the root already has it.
 */
export async function setVolumeOwnership(dir: string, own: PodOwnership, readOnly: boolean): Promise<void> {
  if (own.fsGroup === undefined) return;
  const gid = own.fsGroup;
  if (own.changePolicy === "OnRootMismatch") {
    const st = await lstat(dir);
    const want = ownedMode(st.mode, true, readOnly);
    if (st.gid === gid && (st.mode & 0o7777) === want) return;
  }
  const visit = async (p: string): Promise<void> => {
    const st = await lstat(p);
    await lchown(p, -1, gid);
    if (st.isSymbolicLink()) return;
    await chmod(p, ownedMode(st.mode, st.isDirectory(), readOnly));
    if (st.isDirectory()) for (const name of await readdir(p)) await visit(join(p, name));
  };
  await visit(dir);
}
