/**
 * The hot numbers of every live node in flat typed arrays (one slot per node): what the common
 * filters and scores read on every node of every cycle. Walking 5,000 node objects scattered over
 * a large heap costs a cache miss per field; these arrays stay in cache. The node infos remain
 * the source of truth: the cache copies them here after every change, and plugins fall back to
 * them whenever a flag says the fast path cannot decide.
 */
import type { NodeInfo } from "./nodeinfo.js";

/** spec.unschedulable is set. */
export const FLAG_UNSCHEDULABLE = 1;
/** The node has NoSchedule or NoExecute taints. */
export const FLAG_HARD_TAINTS = 2;
/** The node has PreferNoSchedule taints. */
export const FLAG_SOFT_TAINTS = 4;

export class NodeTable {
  private size = 0;
  private readonly free: number[] = [];
  allocCpu = new Float64Array(0);
  allocMemory = new Float64Array(0);
  allocEphemeral = new Float64Array(0);
  allowedPods = new Float64Array(0);
  reqCpu = new Float64Array(0);
  reqMemory = new Float64Array(0);
  reqEphemeral = new Float64Array(0);
  nonZeroCpu = new Float64Array(0);
  nonZeroMemory = new Float64Array(0);
  podCount = new Float64Array(0);
  flags = new Uint8Array(0);

  private grow(): void {
    const cap = Math.max(64, this.flags.length * 2);
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.allocCpu = f64(this.allocCpu);
    this.allocMemory = f64(this.allocMemory);
    this.allocEphemeral = f64(this.allocEphemeral);
    this.allowedPods = f64(this.allowedPods);
    this.reqCpu = f64(this.reqCpu);
    this.reqMemory = f64(this.reqMemory);
    this.reqEphemeral = f64(this.reqEphemeral);
    this.nonZeroCpu = f64(this.nonZeroCpu);
    this.nonZeroMemory = f64(this.nonZeroMemory);
    this.podCount = f64(this.podCount);
    const flags = new Uint8Array(cap);
    flags.set(this.flags);
    this.flags = flags;
  }

  /** A slot for a new node info. */
  alloc(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.size === this.flags.length) this.grow();
    return this.size++;
  }

  release(slot: number): void {
    if (slot < 0) return;
    this.flags[slot] = 0;
    this.free.push(slot);
  }

  /** Copies the node info's hot numbers into its slot. */
  sync(info: NodeInfo): void {
    const s = info.slot;
    if (s < 0) return;
    const a = info.allocatable;
    const r = info.requested;
    this.allocCpu[s] = a.milliCpu;
    this.allocMemory[s] = a.memory;
    this.allocEphemeral[s] = a.ephemeralStorage;
    this.allowedPods[s] = a.allowedPods;
    this.reqCpu[s] = r.milliCpu;
    this.reqMemory[s] = r.memory;
    this.reqEphemeral[s] = r.ephemeralStorage;
    this.nonZeroCpu[s] = info.nonZeroCpu;
    this.nonZeroMemory[s] = info.nonZeroMemory;
    this.podCount[s] = info.pods.length;
    let flags = info.unschedulable ? FLAG_UNSCHEDULABLE : 0;
    for (const t of info.taints) {
      if (t.effect === "NoSchedule" || t.effect === "NoExecute") flags |= FLAG_HARD_TAINTS;
      else if (t.effect === "PreferNoSchedule") flags |= FLAG_SOFT_TAINTS;
    }
    this.flags[s] = flags;
  }
}
