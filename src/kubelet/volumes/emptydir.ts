/**
 * emptyDir volumes (upstream pkg/volume/emptydir): a 0777 directory on the node's disk; medium
 * Memory is a tmpfs sized by the smallest of sizeLimit, the pod's memory limit and the node's
 * allocatable memory; medium HugePages a hugetlbfs. Usage is measured as `du -x` does, for the
 * kubelet's sizeLimit eviction.
 */
import type { Stats } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { Quantity } from "../../api/quantity.js";
import { isRecord, type KObject } from "../../api/types.js";

export type Medium = "" | "Memory" | "HugePages" | `HugePages-${string}`;

function memLimit(c: Record<string, unknown>): bigint | undefined {
  const res = isRecord(c["resources"]) ? c["resources"] : {};
  const limits = isRecord(res["limits"]) ? res["limits"] : {};
  const raw = limits["memory"];
  if (typeof raw !== "string" && typeof raw !== "number") return undefined;
  const q = Quantity.tryParse(String(raw));
  return q && !q.isZero() ? q.value() : undefined;
}

/**
 * The pod's memory limit as its cgroup gets it (upstream ResourceConfigForPod): app containers
 * and sidecars summed, at least the largest init container, plus overhead; undefined unless
 * every container declares a limit.
 */
export function podMemoryLimit(pod: KObject): bigint | undefined {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const containers = Array.isArray(spec["containers"]) ? spec["containers"].filter(isRecord) : [];
  const inits = Array.isArray(spec["initContainers"]) ? spec["initContainers"].filter(isRecord) : [];
  let sum = 0n;
  let initMax = 0n;
  for (const c of [...containers, ...inits]) {
    const l = memLimit(c);
    if (l === undefined) return undefined;
    const sidecar = inits.includes(c) && c["restartPolicy"] === "Always";
    if (containers.includes(c) || sidecar) sum += l;
    else if (l > initMax) initMax = l;
  }
  let total = sum > initMax ? sum : initMax;
  const overhead = isRecord(spec["overhead"]) ? Quantity.tryParse(String(spec["overhead"]["memory"] ?? "")) : undefined;
  if (overhead) total += overhead.value();
  return total;
}

/** upstream calculateEmptyDirMemorySize: the tmpfs size of a memory-backed emptyDir, bytes. */
export function emptyDirMemorySize(nodeAllocatableBytes: number, pod: KObject, sizeLimit: bigint | undefined): bigint {
  let size = BigInt(Math.floor(nodeAllocatableBytes));
  const podLimit = podMemoryLimit(pod);
  if (podLimit !== undefined && podLimit > 0n && podLimit <= size) size = podLimit;
  if (sizeLimit !== undefined && sizeLimit > 0n && sizeLimit <= size) size = sizeLimit;
  return size;
}

/** The hugetlbfs page size of a HugePages medium (upstream getPageSizeMountOption). */
export function hugePageSize(medium: string, pod: KObject): string {
  if (medium.startsWith("HugePages-")) return medium.slice("HugePages-".length);
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const sizes = new Set<string>();
  for (const c of [
    ...(Array.isArray(spec["containers"]) ? spec["containers"] : []),
    ...(Array.isArray(spec["initContainers"]) ? spec["initContainers"] : []),
  ].filter(isRecord)) {
    const res = isRecord(c["resources"]) ? c["resources"] : {};
    for (const list of [res["limits"], res["requests"]]) {
      if (!isRecord(list)) continue;
      for (const name of Object.keys(list))
        if (name.startsWith("hugepages-")) sizes.add(name.slice("hugepages-".length));
    }
  }
  if (sizes.size > 1) throw new Error(`medium: ${medium} can't be used if container requests multiple huge page sizes`);
  const [only] = sizes;
  if (only === undefined)
    throw new Error("hugePages storage requested, but there is no resource request for huge pages");
  return only;
}

/** sizeLimit of an emptyDir source, bytes. */
export function sizeLimitOf(source: Record<string, unknown>): bigint | undefined {
  const raw = source["sizeLimit"];
  if (typeof raw !== "string" && typeof raw !== "number") return undefined;
  const q = Quantity.tryParse(String(raw));
  return q && q.sign() > 0 ? q.value() : undefined;
}

/**
 * Bytes used below `dir` as `du -x -s -B1` counts them: allocated blocks, hard links once,
 * symlinks not followed, other filesystems mounted below not entered.
 */
export async function diskUsage(dir: string): Promise<number> {
  let root: Stats;
  try {
    root = await lstat(dir);
  } catch {
    return 0;
  }
  const seen = new Set<string>();
  let total = 0;
  const visit = async (p: string, st: Stats): Promise<void> => {
    if (st.dev !== root.dev) return;
    if (st.nlink > 1 && !st.isDirectory()) {
      const id = `${st.dev}:${st.ino}`;
      if (seen.has(id)) return;
      seen.add(id);
    }
    total += st.blocks * 512;
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = await readdir(p);
    } catch {
      return;
    }
    for (const name of names) {
      const child = join(p, name);
      try {
        await visit(child, await lstat(child));
      } catch {
        // removed while walking
      }
    }
  };
  await visit(dir, root);
  return total;
}

/** The kubelet's eviction message when an emptyDir outgrows its sizeLimit (upstream emptyDirMessageFmt). */
export function emptyDirEvictionMessage(volume: string, limit: string): string {
  return `Usage of EmptyDir volume "${volume}" exceeds the limit "${limit}". `;
}

/** emptyDir volumes of the pod whose usage is over their sizeLimit, with the eviction message. */
export function emptyDirsOverLimit(
  pod: KObject,
  usage: Map<string, number>,
): Array<{ volume: string; message: string }> {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const out: Array<{ volume: string; message: string }> = [];
  for (const v of Array.isArray(spec["volumes"]) ? spec["volumes"].filter(isRecord) : []) {
    if (!isRecord(v["emptyDir"])) continue;
    const name = String(v["name"] ?? "");
    const limit = sizeLimitOf(v["emptyDir"]);
    const used = usage.get(name);
    if (limit === undefined || used === undefined || BigInt(used) <= limit) continue;
    const text = Quantity.parse(String(v["emptyDir"]["sizeLimit"])).toString();
    out.push({ volume: name, message: emptyDirEvictionMessage(name, text) });
  }
  return out;
}
