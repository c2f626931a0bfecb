/**
 * Whether runc containers can run on this machine, in which mode, and if not, why — so the kubelet
 * can say clearly why it falls back to the process runtime. Checks: the runc binary; then as root,
 * iproute2 for pod networking, a cgroup hierarchy with the memory and CPU controllers, and an
 * overlay of / actually mounting (a trial mount, because overlayfs can be listed yet refuse, e.g.
 * on an overlay root); without root (rootless mode, see ./rootless.ts), runc 1.1 or later and a user
 * namespace this user can actually create, and what is degraded (network, limits, root filesystem).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findExecutable, isExecutable } from "../../network/command.js";
import { detectCgroups } from "./cgroups.js";
import { mountsUnder } from "./rootfs.js";
import {
  detectCgroupDelegation,
  probeUserNamespaces,
  type RuncMode,
  rootlessDegradations,
  runcVersionOf,
} from "./rootless.js";

export type Availability =
  | {
      ok: true;
      /** root: everything; rootless: in a user namespace, with `degraded` saying what is missing. */
      mode: RuncMode;
      /** What this mode cannot do here, one sentence each (empty as root). */
      degraded: string[];
    }
  | { ok: false; reason: string };

/** The runc binary: `/usr/sbin/runc`, else the one on PATH. */
export function defaultRuncPath(): string | undefined {
  if (isExecutable("/usr/sbin/runc")) return "/usr/sbin/runc";
  return findExecutable("runc");
}

export interface AvailabilityOptions {
  runcPath?: string;
  /** Where the trial overlay's upper dir goes (the runtime root, if it exists). Default: the temp dir. */
  scratchDir?: string;
}

function trialOverlay(scratch: string): string | undefined {
  let dir: string | undefined;
  try {
    mkdirSync(scratch, { recursive: true });
    dir = mkdtempSync(join(scratch, "k8ts-overlay-check-"));
    for (const d of ["upper", "work", "merged"]) mkdirSync(join(dir, d));
    const r = spawnSync(
      "mount",
      ["-t", "overlay", "overlay", "-o", `lowerdir=/,upperdir=${dir}/upper,workdir=${dir}/work`, join(dir, "merged")],
      { encoding: "utf8", timeout: 10_000 },
    );
    if (r.status !== 0) return (r.stderr || r.error?.message || `exit ${r.status}`).trim();
    spawnSync("umount", [join(dir, "merged")], { timeout: 10_000 });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    if (dir && mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  }
}

export function runcAvailability(opts: AvailabilityOptions = {}): Availability {
  if (process.platform !== "linux")
    return { ok: false, reason: `runc containers need Linux (this is ${process.platform})` };
  const runc = opts.runcPath ?? defaultRuncPath();
  if (!runc || !isExecutable(runc)) {
    return {
      ok: false,
      reason: `runc is not installed (${opts.runcPath ?? "/usr/sbin/runc or PATH"}); install the runc package`,
    };
  }
  const v = spawnSync(runc, ["--version"], { encoding: "utf8", timeout: 10_000 });
  if (v.status !== 0)
    return { ok: false, reason: `${runc} --version failed: ${(v.stderr || v.error?.message || "").trim()}` };
  if (process.getuid?.() !== 0) return rootlessAvailability(runc, v.stdout);
  if (!findExecutable("ip"))
    return { ok: false, reason: "pod networking needs the `ip` tool (iproute2), which is not installed" };
  const cg = detectCgroups();
  if (!cg) return { ok: false, reason: "no cgroup filesystem is mounted (/sys/fs/cgroup)" };
  if (cg.version === 1) {
    for (const c of ["memory", "cpu", "cpuacct"]) {
      if (!cg.controllers.has(c)) return { ok: false, reason: `the cgroup v1 "${c}" controller is not mounted` };
    }
  } else {
    const ctl = cg.unified ? readFileSync(join(cg.unified, "cgroup.controllers"), "utf8") : "";
    for (const c of ["memory", "cpu"]) {
      if (!ctl.split(/\s+/).includes(c))
        return { ok: false, reason: `the cgroup v2 "${c}" controller is not available` };
    }
  }
  if (!readFileSync("/proc/filesystems", "utf8").includes("overlay")) {
    return {
      ok: false,
      reason: "overlayfs is not available (no 'overlay' in /proc/filesystems; try `modprobe overlay`)",
    };
  }
  const scratch = opts.scratchDir && existsSync(opts.scratchDir) ? opts.scratchDir : tmpdir();
  const err = trialOverlay(scratch);
  if (err) return { ok: false, reason: `an overlay of / cannot be mounted (${err})` };
  return { ok: true, mode: "root", degraded: [] };
}

function rootlessAvailability(runc: string, versionText: string): Availability {
  const version = runcVersionOf(versionText);
  if (version && (version[0] < 1 || (version[0] === 1 && version[1] < 1))) {
    return {
      ok: false,
      reason: `runc without root needs runc 1.1 or later (recursive read-only mounts); ${runc} is ${version.join(".")}`,
    };
  }
  const userns = probeUserNamespaces();
  if (userns) return { ok: false, reason: `runc without root needs user namespaces: ${userns}` };
  const cg = detectCgroups();
  const delegation = cg
    ? detectCgroupDelegation(cg)
    : { ok: false as const, reason: "no cgroup filesystem is mounted" };
  return { ok: true, mode: "rootless", degraded: rootlessDegradations(delegation) };
}
