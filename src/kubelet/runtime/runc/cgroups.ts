/**
 * The node's cgroup hierarchies as the runtime needs them: which version (v2 unified, or v1 with
 * one mount per controller, possibly with a v2 "unified" mount beside them: hybrid), where a
 * container's cgroup lives in each, what it has used (CPU time, memory working set), how many OOM
 * kills it saw, and removing a pod's cgroup tree. runc creates and configures the container cgroups
 * from the spec; this module only reads them and removes what runc leaves.
 */
import { existsSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";

export interface CgroupLayout {
  version: 1 | 2;
  /** v2: the unified mount. v1: unused (see `controllers`). */
  unified?: string;
  /** v1 controller → its hierarchy's mount point (memory, cpuacct, cpu, pids, ...). */
  controllers: Map<string, string>;
  /** Every hierarchy a cgroup path exists in (v1 mounts, named ones and a hybrid unified mount; or the v2 mount). */
  hierarchies: string[];
}

/** Decodes mountinfo's octal escapes (`\040` for a space). */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
  superOptions: string[];
}

/** Parses /proc/<pid>/mountinfo. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const right = line.slice(sep + 3).split(" ");
    const mp = left[4];
    if (mp === undefined || right.length < 2) continue;
    out.push({
      mountPoint: unescapeMount(mp),
      fsType: right[0] ?? "",
      source: unescapeMount(right[1] ?? ""),
      superOptions: (right[2] ?? "").split(","),
    });
  }
  return out;
}

/** Finds the cgroup hierarchies in a mountinfo listing; undefined when there are none. */
export function cgroupLayoutFrom(mounts: MountEntry[]): CgroupLayout | undefined {
  const v1 = mounts.filter((m) => m.fsType === "cgroup");
  const v2 = mounts.filter((m) => m.fsType === "cgroup2");
  if (v1.length === 0) {
    const u = v2[0];
    if (!u) return undefined;
    return { version: 2, unified: u.mountPoint, controllers: new Map(), hierarchies: [u.mountPoint] };
  }
  const controllers = new Map<string, string>();
  const hierarchies: string[] = [];
  for (const m of v1) {
    if (!hierarchies.includes(m.mountPoint)) hierarchies.push(m.mountPoint);
    for (const o of m.superOptions) {
      if (["rw", "ro", "relatime", "noatime", "nosuid", "nodev", "noexec"].includes(o)) continue;
      if (!controllers.has(o)) controllers.set(o, m.mountPoint);
    }
  }
  for (const u of v2) if (!hierarchies.includes(u.mountPoint)) hierarchies.push(u.mountPoint);
  return { version: 1, controllers, hierarchies };
}

export function detectCgroups(): CgroupLayout | undefined {
  try {
    return cgroupLayoutFrom(parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8")));
  } catch {
    return undefined;
  }
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control) → numbers. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

/** Working set as the kubelet computes it: usage minus inactive file pages, never negative. */
export function workingSet(usage: number, inactiveFile: number): number {
  return usage > inactiveFile ? usage - inactiveFile : 0;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

export interface CgroupUsage {
  cpuUsageNanoSeconds: number;
  memoryWorkingSetBytes: number;
}

export class Cgroups {
  constructor(readonly layout: CgroupLayout) {}

  /** Directory of `rel` (an absolute cgroup path such as /k8ts/pod<uid>/<id>) for a v1 controller or v2. */
  dir(rel: string, controller: string): string | undefined {
    if (this.layout.version === 2) return this.layout.unified ? join(this.layout.unified, rel) : undefined;
    const mp = this.layout.controllers.get(controller);
    return mp ? join(mp, rel) : undefined;
  }

  usage(rel: string): CgroupUsage | undefined {
    if (this.layout.version === 2) {
      const d = this.dir(rel, "");
      if (!d) return undefined;
      const cpu = readText(join(d, "cpu.stat"));
      const cur = readText(join(d, "memory.current"));
      if (cpu === undefined || cur === undefined) return undefined;
      const stat = parseFlatKeyed(readText(join(d, "memory.stat")) ?? "");
      return {
        cpuUsageNanoSeconds: (parseFlatKeyed(cpu).get("usage_usec") ?? 0) * 1000,
        memoryWorkingSetBytes: workingSet(Number(cur.trim()) || 0, stat.get("inactive_file") ?? 0),
      };
    }
    const cpuDir = this.dir(rel, "cpuacct");
    const memDir = this.dir(rel, "memory");
    if (!cpuDir || !memDir) return undefined;
    const cpu = readText(join(cpuDir, "cpuacct.usage"));
    const mem = readText(join(memDir, "memory.usage_in_bytes"));
    if (cpu === undefined || mem === undefined) return undefined;
    const stat = parseFlatKeyed(readText(join(memDir, "memory.stat")) ?? "");
    return {
      cpuUsageNanoSeconds: Number(cpu.trim()) || 0,
      memoryWorkingSetBytes: workingSet(Number(mem.trim()) || 0, stat.get("total_inactive_file") ?? 0),
    };
  }

  /** OOM kills the memory controller counted in this cgroup (0 when unknown). */
  oomKills(rel: string): number {
    const d = this.dir(rel, "memory");
    if (!d) return 0;
    const file = this.layout.version === 2 ? "memory.events" : "memory.oom_control";
    return parseFlatKeyed(readText(join(d, file)) ?? "").get("oom_kill") ?? 0;
  }

  /** Whether swap accounting exists (so a memory limit can also forbid swap). */
  hasSwapAccounting(): boolean {
    if (this.layout.version === 2) {
      return (
        this.layout.unified !== undefined && readText(join(this.layout.unified, "cgroup.controllers")) !== undefined
      );
    }
    const mp = this.layout.controllers.get("memory");
    return mp !== undefined && existsSync(join(mp, "memory.memsw.limit_in_bytes"));
  }

  /** Removes `rel` and everything under it in every hierarchy (cgroups are removed with rmdir, deepest first). */
  remove(rel: string): string[] {
    const errors: string[] = [];
    for (const h of this.layout.hierarchies) {
      const d = join(h, rel);
      if (!existsSync(d)) continue;
      removeTree(d, errors);
    }
    return errors;
  }
}

function removeTree(dir: string, errors: string[]): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return;
  }
  for (const e of entries) removeTree(join(dir, e), errors);
  try {
    rmdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") errors.push(`${dir}: ${code ?? (err as Error).message}`);
  }
}
