/**
 * The kubelet's /stats/summary (stats/v1alpha1 Summary): the node's CPU, memory and root file
 * system from the host (/proc, statfs), and per pod and container the runtime's readings, with
 * the pod's volume stats the caller measured. CPU rates (usageNanoCores) come from the change
 * since the previous reading.
 */
import { readFile, statfs } from "node:fs/promises";
import { cpus, freemem, hostname, totalmem, uptime } from "node:os";
import { isRecord, type KObject } from "../../api/types.js";
import type { ContainerStats, ContainerStatus } from "../runtime/types.js";

/** USER_HZ of /proc/stat on Linux. */
const CLOCK_TICKS = 100;

export interface HostCpu {
  /** CPU time spent not idle, all cores, nanoseconds. */
  usageNs: number;
  /** Epoch ms of the boot. */
  bootMs: number;
}

/** /proc/stat: busy time of the `cpu` line (user nice system irq softirq steal) and btime. */
export function parseProcStat(text: string): HostCpu | undefined {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  const btime = /^btime\s+(\d+)/m.exec(text);
  return {
    usageNs: (user + nice + system + irq + softirq + steal) * (1e9 / CLOCK_TICKS),
    bootMs: btime ? Number(btime[1]) * 1000 : Date.now() - uptime() * 1000,
  };
}

export interface HostMemory {
  totalBytes: number;
  availableBytes: number;
  usageBytes: number;
  workingSetBytes: number;
  rssBytes: number;
}

/** /proc/meminfo (kB values), as cAdvisor's root container sees memory. */
export function parseMeminfo(text: string): HostMemory | undefined {
  const kb = (k: string) => {
    const m = new RegExp(`^${k.replace(/[()]/g, "\\$&")}:\\s+(\\d+)`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb("MemTotal");
  const free = kb("MemFree");
  if (total === undefined || free === undefined) return undefined;
  const available = kb("MemAvailable") ?? free;
  const usage = total - free;
  const inactiveFile = kb("Inactive(file)") ?? 0;
  return {
    totalBytes: total,
    availableBytes: available,
    usageBytes: usage,
    workingSetBytes: Math.max(0, usage - inactiveFile),
    rssBytes: kb("AnonPages") ?? 0,
  };
}

/** pgfault and pgmajfault of /proc/vmstat. */
export function parseVmstat(text: string): { pageFaults: number; majorPageFaults: number } {
  const n = (k: string) => Number(new RegExp(`^${k}\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  return { pageFaults: n("pgfault"), majorPageFaults: n("pgmajfault") };
}

async function readOr(path: string): Promise<string | undefined> {
  return readFile(path, "utf8").catch(() => undefined);
}

interface Sample {
  usageNs: number;
  atMs: number;
}

/** usageNanoCores from two cumulative readings (undefined for the first). */
export function rate(prev: Sample | undefined, now: Sample): number | undefined {
  if (!prev || now.atMs <= prev.atMs || now.usageNs < prev.usageNs) return undefined;
  // CPU nanoseconds per wall second
  return Math.round(((now.usageNs - prev.usageNs) / (now.atMs - prev.atMs)) * 1000);
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export interface SummaryInputs {
  nodeName: string;
  pods: KObject[];
  containers: ContainerStatus[];
  stats: ContainerStats[];
  /** Root of the file system the kubelet reports (its root dir). */
  rootDir: string;
  /** Per pod uid, the pod's VolumeStats entries (persistentVolumeClaim volumes, with pvcRef). */
  volumes?: ReadonlyMap<string, Record<string, unknown>[]>;
}

/** Keeps the previous readings so CPU rates can be computed. */
export class SummaryProvider {
  private nodePrev: Sample | undefined;
  private readonly containerPrev = new Map<string, Sample>();

  async summary(inputs: SummaryInputs): Promise<Record<string, unknown>> {
    const now = Date.now();
    const time = iso(now);
    const statText = await readOr("/proc/stat");
    const hostCpu = (statText && parseProcStat(statText)) || {
      usageNs: cpus().reduce((s, c) => s + (c.times.user + c.times.nice + c.times.sys + c.times.irq) * 1e6, 0),
      bootMs: now - uptime() * 1000,
    };
    const memText = await readOr("/proc/meminfo");
    const mem = (memText && parseMeminfo(memText)) || {
      totalBytes: totalmem(),
      availableBytes: freemem(),
      usageBytes: totalmem() - freemem(),
      workingSetBytes: totalmem() - freemem(),
      rssBytes: 0,
    };
    const faults = parseVmstat((await readOr("/proc/vmstat")) ?? "");
    const nodeSample = { usageNs: hostCpu.usageNs, atMs: now };
    const nodeCores = rate(this.nodePrev, nodeSample);
    this.nodePrev = nodeSample;
    const node: Record<string, unknown> = {
      nodeName: inputs.nodeName || hostname(),
      systemContainers: [],
      startTime: iso(hostCpu.bootMs),
      cpu: {
        time,
        ...(nodeCores !== undefined ? { usageNanoCores: nodeCores } : {}),
        usageCoreNanoSeconds: Math.round(hostCpu.usageNs),
      },
      memory: {
        time,
        availableBytes: mem.availableBytes,
        usageBytes: mem.usageBytes,
        workingSetBytes: mem.workingSetBytes,
        rssBytes: mem.rssBytes,
        ...faults,
      },
    };
    const fs = await statfs(inputs.rootDir).catch(() => undefined);
    if (fs) {
      const capacity = fs.blocks * fs.bsize;
      const available = fs.bavail * fs.bsize;
      node["fs"] = {
        time,
        availableBytes: available,
        capacityBytes: capacity,
        usedBytes: capacity - fs.bfree * fs.bsize,
        inodesFree: fs.ffree,
        inodes: fs.files,
        inodesUsed: fs.files - fs.ffree,
      };
    }
    const statsById = new Map(inputs.stats.map((s) => [s.id, s]));
    const seen = new Set<string>();
    const pods: Record<string, unknown>[] = [];
    for (const pod of inputs.pods) {
      const uid = pod.metadata.uid ?? "";
      const running = inputs.containers.filter((c) => c.podUid === uid && c.state === "running");
      const containers: Record<string, unknown>[] = [];
      let podNs = 0;
      let podCores: number | undefined;
      let podWs = 0;
      for (const c of running) {
        const s = statsById.get(c.id);
        if (!s) continue;
        seen.add(c.id);
        const sample = { usageNs: s.cpuUsageNanoSeconds, atMs: s.timestamp };
        const cores = rate(this.containerPrev.get(c.id), sample);
        this.containerPrev.set(c.id, sample);
        const t = iso(s.timestamp);
        containers.push({
          name: c.name,
          startTime: iso(c.startedAt ?? c.createdAt),
          cpu: {
            time: t,
            ...(cores !== undefined ? { usageNanoCores: cores } : {}),
            usageCoreNanoSeconds: s.cpuUsageNanoSeconds,
          },
          memory: { time: t, workingSetBytes: s.memoryWorkingSetBytes },
        });
        podNs += s.cpuUsageNanoSeconds;
        podWs += s.memoryWorkingSetBytes;
        if (cores !== undefined) podCores = (podCores ?? 0) + cores;
      }
      const status = isRecord(pod["status"]) ? pod["status"] : {};
      pods.push({
        podRef: { name: pod.metadata.name ?? "", namespace: pod.metadata.namespace ?? "", uid },
        startTime: typeof status["startTime"] === "string" ? status["startTime"] : pod.metadata.creationTimestamp,
        containers,
        cpu: { time, ...(podCores !== undefined ? { usageNanoCores: podCores } : {}), usageCoreNanoSeconds: podNs },
        memory: { time, workingSetBytes: podWs },
        ...(inputs.volumes?.get(uid)?.length ? { volume: inputs.volumes.get(uid) } : {}),
      });
    }
    // forget containers that are gone
    for (const id of this.containerPrev.keys()) if (!seen.has(id)) this.containerPrev.delete(id);
    return { node, pods };
  }
}
