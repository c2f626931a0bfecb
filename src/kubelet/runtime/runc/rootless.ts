/**
 * runc without root ("rootless", as `runc spec --rootless` lays it out): each container gets a user
 * namespace in which uid/gid 0 is the node user's own uid/gid (a single-id mapping, which the
 * kernel lets a user write without newuidmap), and what root alone can do on the host is replaced
 * or said to be missing:
 * - network: no bridge or veth without root, so every pod shares the node's network (pod IP = node IP);
 * - cgroups: none on cgroup v1 (the user cannot create cgroups: limits are not enforced, stats come
 *   from /proc); on cgroup v2 only under a subtree delegated to the user (its `cgroup.subtree_control`
 *   has the memory and cpu controllers and the user may write it);
 * - root filesystem: an overlay of / cannot be mounted (outside a user namespace a user mounts
 *   nothing; inside one, overlayfs refuses a lower dir with submounts hidden beneath it, "failed to
 *   clone lowerpath", and / always has them), so the container sees the host's root read-only with
 *   empty private tmpfs on /tmp, /var/tmp and /run;
 * - ids: only container uid/gid 0 exist (runAsUser/runAsGroup other than 0 cannot be honoured).
 *
 * The decisions are pure functions over what the checks read, so they are tested by table.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CgroupLayout } from "./cgroups.js";

export type RuncMode = "root" | "rootless";

/** Kernel settings that allow or forbid unprivileged user namespaces (missing ones are undefined). */
export interface UserNamespaceSysctls {
  /** /proc/sys/user/max_user_namespaces */
  maxUserNamespaces: number | undefined;
  /** /proc/sys/kernel/unprivileged_userns_clone (Debian's older kernels) */
  unprivilegedUsernsClone: number | undefined;
  /** /proc/sys/kernel/apparmor_restrict_unprivileged_userns (Ubuntu) */
  apparmorRestrict: number | undefined;
}

/** Why the kernel's settings forbid an unprivileged user namespace, or undefined when they allow one. */
export function userNamespacesForbidden(s: UserNamespaceSysctls): string | undefined {
  if (s.maxUserNamespaces === 0) return "user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)";
  if (s.unprivilegedUsernsClone === 0) {
    return "unprivileged user namespaces are disabled (/proc/sys/kernel/unprivileged_userns_clone is 0)";
  }
  if (s.apparmorRestrict === 1) {
    return "AppArmor restricts unprivileged user namespaces (/proc/sys/kernel/apparmor_restrict_unprivileged_userns is 1)";
  }
  return undefined;
}

function readNumber(path: string): number | undefined {
  try {
    const t = readFileSync(path, "utf8").trim();
    return /^\d+$/.test(t) ? Number(t) : undefined;
  } catch {
    return undefined;
  }
}

export function readUserNamespaceSysctls(): UserNamespaceSysctls {
  return {
    maxUserNamespaces: readNumber("/proc/sys/user/max_user_namespaces"),
    unprivilegedUsernsClone: readNumber("/proc/sys/kernel/unprivileged_userns_clone"),
    apparmorRestrict: readNumber("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
  };
}

/**
 * Whether this user can create a user namespace with itself as root and a mount namespace in it:
 * the kernel's settings, then a trial (`unshare --user --map-root-user --mount true`, util-linux),
 * because a seccomp filter or LSM can refuse what the settings allow.
 */
export function probeUserNamespaces(): string | undefined {
  const forbidden = userNamespacesForbidden(readUserNamespaceSysctls());
  if (forbidden) return forbidden;
  const r = spawnSync("unshare", ["--user", "--map-root-user", "--mount", "true"], {
    encoding: "utf8",
    timeout: 10_000,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") return undefined; // no util-linux: trust the settings
  if (r.status !== 0) {
    return `this user cannot create a user namespace: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`;
  }
  return undefined;
}

/** The process's cgroup v2 path (the `0::<path>` line of /proc/<pid>/cgroup), undefined when there is none. */
export function unifiedCgroupOf(procCgroup: string): string | undefined {
  for (const line of procCgroup.split("\n")) {
    if (line.startsWith("0::")) {
      const p = line.slice(3).trim();
      return p.startsWith("/") ? p : undefined;
    }
  }
  return undefined;
}

/** What the delegation check needs to know about one cgroup v2 directory. */
export interface CgroupDirAccess {
  /** The user may create child cgroups (the directory is writable). */
  writable: boolean;
  /** The user may write cgroup.procs and cgroup.subtree_control there. */
  filesWritable: boolean;
  /** Controllers in its cgroup.subtree_control (what its children may use); undefined = unreadable. */
  subtreeControl: string[] | undefined;
}

export type CgroupDelegation = { ok: true; base: string } | { ok: false; reason: string };

/** Controllers the runtime needs delegated to enforce limits.memory and limits.cpu. */
export const DELEGATED_CONTROLLERS: readonly string[] = ["memory", "cpu"];

/**
 * Where a user's containers can have cgroups: the nearest ancestor of the user's own cgroup (never
 * the own one — a cgroup with processes cannot give its children controllers — nor the root) that
 * the user may write and whose children get the memory and cpu controllers: systemd's
 * `user@<uid>.service` with `Delegate=yes`, say. Pods then go under `<base>/<parent>`.
 */
export function cgroupDelegation(
  layout: Pick<CgroupLayout, "version">,
  ownCgroup: string | undefined,
  access: (cgroup: string) => CgroupDirAccess,
): CgroupDelegation {
  if (layout.version !== 2) {
    return {
      ok: false,
      reason: "cgroup v1: a user without root cannot create cgroups (only cgroup v2 can delegate a subtree)",
    };
  }
  if (!ownCgroup)
    return { ok: false, reason: "this process has no cgroup v2 path (/proc/self/cgroup has no 0:: line)" };
  const parts = ownCgroup.split("/").filter(Boolean);
  for (let n = parts.length - 1; n >= 1; n--) {
    const candidate = `/${parts.slice(0, n).join("/")}`;
    const a = access(candidate);
    if (!a.writable || !a.filesWritable || !a.subtreeControl) continue;
    if (DELEGATED_CONTROLLERS.every((c) => a.subtreeControl?.includes(c))) return { ok: true, base: candidate };
  }
  return {
    ok: false,
    reason: `no cgroup v2 subtree is delegated to this user with the ${DELEGATED_CONTROLLERS.join(" and ")} controllers (checked the ancestors of ${ownCgroup})`,
  };
}

/** The delegation check on the live cgroup v2 mount. */
export function cgroupDirAccess(unified: string): (cgroup: string) => CgroupDirAccess {
  const can = (p: string, mode: number): boolean => {
    try {
      accessSync(p, mode);
      return true;
    } catch {
      return false;
    }
  };
  return (cgroup) => {
    const dir = join(unified, cgroup);
    let subtreeControl: string[] | undefined;
    try {
      subtreeControl = readFileSync(join(dir, "cgroup.subtree_control"), "utf8").split(/\s+/).filter(Boolean);
    } catch {
      subtreeControl = undefined;
    }
    return {
      writable: can(dir, constants.W_OK | constants.X_OK),
      filesWritable:
        can(join(dir, "cgroup.procs"), constants.W_OK) && can(join(dir, "cgroup.subtree_control"), constants.W_OK),
      subtreeControl,
    };
  };
}

/** The delegation on this machine, for this process. */
export function detectCgroupDelegation(layout: CgroupLayout): CgroupDelegation {
  let own: string | undefined;
  try {
    own = unifiedCgroupOf(readFileSync("/proc/self/cgroup", "utf8"));
  } catch {
    own = undefined;
  }
  if (layout.version === 2 && !layout.unified) return { ok: false, reason: "no cgroup v2 mount" };
  return cgroupDelegation(layout, own, cgroupDirAccess(layout.unified ?? "/sys/fs/cgroup"));
}

/** Paths a rootless container may write besides its volumes: private, empty tmpfs. */
export const ROOTLESS_TMPFS: readonly string[] = ["/tmp", "/var/tmp", "/run"];

/** What rootless mode cannot do on this machine, one sentence each (for availability and the log). */
export function rootlessDegradations(delegation: CgroupDelegation): string[] {
  const out = [
    "no pod network without root: every pod shares the node's network (pod IP = node IP, hostNetwork is the only mode)",
    `no image store and no overlay of / without root: containers see the host's root filesystem read-only, with private empty tmpfs on ${ROOTLESS_TMPFS.join(", ")}`,
    "only uid/gid 0 exist in containers (mapped to the node user): runAsUser/runAsGroup other than 0 are refused",
  ];
  if (!delegation.ok) out.push(`resource limits are not enforced and stats come from /proc: ${delegation.reason}`);
  return out;
}

/** runc's version from `runc --version` output (`runc version 1.1.5+ds1`), as [major, minor]. */
export function runcVersionOf(text: string): [number, number] | undefined {
  const m = /runc version (\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
