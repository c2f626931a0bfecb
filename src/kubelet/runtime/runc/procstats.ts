/**
 * Container usage without cgroups (rootless on cgroup v1, or no delegated subtree): read from /proc.
 * A container's processes are those in its init process's PID namespace (the link
 * /proc/<pid>/ns/pid); one pass over /proc serves every container.
 * - CPU: utime+stime+cutime+cstime of each process (/proc/<pid>/stat), so the time of children that
 *   ended and were waited for stays counted in their reaper; time of children nobody waited for is
 *   lost (a cgroup would keep it).
 * - Memory: the sum of each process's proportional set size (Pss in /proc/<pid>/smaps_rollup: shared
 *   pages split between their users), else its resident set (RSS) — not a cgroup's working set
 *   (no page cache is counted).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** CPU ticks (utime, stime, cutime, cstime) and RSS pages of /proc/<pid>/stat text. */
export function parseProcStat(text: string): { ticks: number; rssPages: number } | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  // fields after "(comm)": state is field 3; utime..cstime are 14..17, rss is 24
  const f = text
    .slice(close + 2)
    .trim()
    .split(" ");
  const num = (field: number): number => {
    const v = f[field - 3];
    return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
  };
  const ticks = num(14) + num(15) + num(16) + num(17);
  const rss = num(24);
  if (!Number.isFinite(ticks) || !Number.isFinite(rss)) return undefined;
  return { ticks, rssPages: Math.max(0, rss) };
}

/** The Pss line of /proc/<pid>/smaps_rollup, in bytes. */
export function parsePss(text: string): number | undefined {
  const m = /^Pss:\s+(\d+) kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

export interface ProcUsage {
  cpuUsageNanoSeconds: number;
  memoryWorkingSetBytes: number;
}

export interface ProcStatsOptions {
  /** Clock ticks per second (`getconf CLK_TCK`: 100 on Linux's usual builds). */
  clockTicks?: number;
  pageSize?: number;
  /** The /proc mount. */
  proc?: string;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function pidNamespace(proc: string, pid: string): string | undefined {
  try {
    return readlinkSync(`${proc}/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** Usage of each container, keyed as `inits` is (container id → its init's host pid); missing when its init is gone. */
export function procUsage(inits: Map<string, number>, opts: ProcStatsOptions = {}): Map<string, ProcUsage> {
  const proc = opts.proc ?? "/proc";
  const tick = 1e9 / (opts.clockTicks ?? 100);
  const page = opts.pageSize ?? 4096;
  const byNs = new Map<string, string>();
  for (const [id, pid] of inits) {
    const ns = pidNamespace(proc, String(pid));
    if (ns !== undefined) byNs.set(ns, id);
  }
  const out = new Map<string, ProcUsage>();
  if (byNs.size === 0) return out;
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((n) => /^\d+$/.test(n));
  } catch {
    return out;
  }
  for (const pid of pids) {
    const ns = pidNamespace(proc, pid);
    const id = ns === undefined ? undefined : byNs.get(ns);
    if (id === undefined) continue;
    const st = parseProcStat(readText(`${proc}/${pid}/stat`) ?? "");
    if (!st) continue;
    const pss = parsePss(readText(`${proc}/${pid}/smaps_rollup`) ?? "");
    const u = out.get(id) ?? { cpuUsageNanoSeconds: 0, memoryWorkingSetBytes: 0 };
    u.cpuUsageNanoSeconds += Math.round(st.ticks * tick);
    u.memoryWorkingSetBytes += pss ?? st.rssPages * page;
    out.set(id, u);
  }
  return out;
}
