/**
 * NodeResourcesFit (Filter: the pod's requests must fit what the node has left; Score:
 * LeastAllocated over cpu and memory, weight 1 each) and NodeResourcesBalancedAllocation (Score:
 * nodes whose cpu and memory fractions stay close score higher).
 */
import type { FilterPlugin, ScorePlugin } from "../framework.js";
import type { NodeInfo } from "../nodeinfo.js";
import type { NodeTable } from "../nodetable.js";
import type { PodInfo } from "../podinfo.js";
import { requestsNothing } from "../resources.js";
import { MAX_NODE_SCORE, PluginName, type Resources, type Status, status } from "../types.js";

/** The reasons a node cannot hold the pod's requests (upstream fitsRequest), in upstream's order. */
export function insufficientResources(req: Resources, node: NodeInfo): string[] {
  const out: string[] = [];
  if (node.pods.length + 1 > node.allocatable.allowedPods) out.push("Too many pods");
  if (requestsNothing(req)) return out;
  const alloc = node.allocatable;
  const used = node.requested;
  if (req.milliCpu > 0 && req.milliCpu > alloc.milliCpu - used.milliCpu) out.push("Insufficient cpu");
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) out.push("Insufficient memory");
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) {
    out.push("Insufficient ephemeral-storage");
  }
  if (req.scalar) {
    for (const [name, amount] of req.scalar) {
      if (amount === 0) continue;
      const free = (alloc.scalar?.get(name) ?? 0) - (used.scalar?.get(name) ?? 0);
      if (amount > free) out.push(`Insufficient ${name}`);
    }
  }
  return out;
}

/** insufficientResources(...).length === 0, without building the reasons (the hot path). */
export function fitsResources(req: Resources, node: NodeInfo): boolean {
  const alloc = node.allocatable;
  if (node.pods.length + 1 > alloc.allowedPods) return false;
  const used = node.requested;
  if (req.milliCpu > 0 && req.milliCpu > alloc.milliCpu - used.milliCpu) return false;
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) return false;
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) return false;
  if (req.scalar) {
    for (const [name, amount] of req.scalar) {
      if (amount !== 0 && amount > (alloc.scalar?.get(name) ?? 0) - (used.scalar?.get(name) ?? 0)) return false;
    }
  }
  return true;
}

/** fitsResources from the node table; false (undecided) when the pod requests scalar resources. */
export function fitsResourcesInTable(req: Resources, t: NodeTable, s: number): boolean {
  if (req.scalar !== undefined && req.scalar.size > 0) return false;
  if ((t.podCount[s] as number) + 1 > (t.allowedPods[s] as number)) return false;
  if (req.milliCpu > 0 && req.milliCpu > (t.allocCpu[s] as number) - (t.reqCpu[s] as number)) return false;
  if (req.memory > 0 && req.memory > (t.allocMemory[s] as number) - (t.reqMemory[s] as number)) return false;
  if (
    req.ephemeralStorage > 0 &&
    req.ephemeralStorage > (t.allocEphemeral[s] as number) - (t.reqEphemeral[s] as number)
  ) {
    return false;
  }
  return true;
}

export const nodeResourcesFit: FilterPlugin = {
  name: PluginName.NodeResourcesFit,
  passes(table, slot, pod) {
    return fitsResourcesInTable(pod.requests, table, slot);
  },
  filter(_state, pod, node): Status | null {
    if (fitsResources(pod.requests, node)) return null;
    const reasons = insufficientResources(pod.requests, node);
    return reasons.length === 0 ? null : status("Unschedulable", PluginName.NodeResourcesFit, ...reasons);
  },
};

/** upstream leastRequestedScore: the share left free, 0..100. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** LeastAllocated over cpu and memory (weights 1), with the 100m / 200Mi defaults for requests. */
export function leastAllocatedScore(pod: PodInfo, node: NodeInfo): number {
  let score = 0;
  let weights = 0;
  const cpuAlloc = node.allocatable.milliCpu;
  if (cpuAlloc !== 0) {
    score += leastRequestedScore(node.nonZeroCpu + pod.nonZeroCpu, cpuAlloc);
    weights++;
  }
  const memAlloc = node.allocatable.memory;
  if (memAlloc !== 0) {
    score += leastRequestedScore(node.nonZeroMemory + pod.nonZeroMemory, memAlloc);
    weights++;
  }
  return weights === 0 ? 0 : Math.trunc(score / weights);
}

/** leastAllocatedScore from the node table. */
export function leastAllocatedInTable(pod: PodInfo, t: NodeTable, s: number): number {
  let score = 0;
  let weights = 0;
  const cpuAlloc = t.allocCpu[s] as number;
  if (cpuAlloc !== 0) {
    score += leastRequestedScore((t.nonZeroCpu[s] as number) + pod.nonZeroCpu, cpuAlloc);
    weights++;
  }
  const memAlloc = t.allocMemory[s] as number;
  if (memAlloc !== 0) {
    score += leastRequestedScore((t.nonZeroMemory[s] as number) + pod.nonZeroMemory, memAlloc);
    weights++;
  }
  return weights === 0 ? 0 : Math.trunc(score / weights);
}

export const nodeResourcesFitScore: ScorePlugin = {
  name: PluginName.NodeResourcesFit,
  weight: 1,
  fastScore(table, slot, pod) {
    return leastAllocatedInTable(pod, table, slot);
  },
  score(_state, pod, node) {
    return leastAllocatedScore(pod, node);
  },
};

/** upstream balancedResourceScorer: (1 - standard deviation of the requested fractions) × 100. */
export function balancedScore(requested: readonly number[], allocatable: readonly number[]): number {
  const fractions: number[] = [];
  let total = 0;
  for (let i = 0; i < requested.length; i++) {
    const a = allocatable[i] as number;
    if (a === 0) continue;
    const f = Math.min((requested[i] as number) / a, 1);
    total += f;
    fractions.push(f);
  }
  let std = 0;
  if (fractions.length === 2) {
    std = Math.abs(((fractions[0] as number) - (fractions[1] as number)) / 2);
  } else if (fractions.length > 2) {
    const mean = total / fractions.length;
    let sum = 0;
    for (const f of fractions) sum += (f - mean) * (f - mean);
    std = Math.sqrt(sum / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

/** balancedScore for cpu and memory, without allocating (the per-node hot path). */
export function balancedScore2(cpuReq: number, cpuAlloc: number, memReq: number, memAlloc: number): number {
  if (cpuAlloc === 0 || memAlloc === 0) {
    // one fraction (or none): the deviation is 0
    return MAX_NODE_SCORE;
  }
  const fc = Math.min(cpuReq / cpuAlloc, 1);
  const fm = Math.min(memReq / memAlloc, 1);
  return Math.trunc((1 - Math.abs((fc - fm) / 2)) * MAX_NODE_SCORE);
}

export const nodeResourcesBalancedAllocation: ScorePlugin = {
  name: PluginName.NodeResourcesBalancedAllocation,
  weight: 1,
  // best-effort pods (no cpu or memory requests) are not scored, as upstream (kubernetes#129138)
  preScore(_state, pod) {
    return pod.requests.milliCpu !== 0 || pod.requests.memory !== 0;
  },
  fastScore(t, s, pod) {
    return balancedScore2(
      (t.reqCpu[s] as number) + pod.requests.milliCpu,
      t.allocCpu[s] as number,
      (t.reqMemory[s] as number) + pod.requests.memory,
      t.allocMemory[s] as number,
    );
  },
  score(_state, pod, node) {
    return balancedScore2(
      node.requested.milliCpu + pod.requests.milliCpu,
      node.allocatable.milliCpu,
      node.requested.memory + pod.requests.memory,
      node.allocatable.memory,
    );
  },
};
