/**
 * The scheduling framework (upstream pkg/scheduler/framework): plugins at the PreFilter, Filter,
 * PreScore, Score and NormalizeScore extension points, the per-cycle state they share, and the
 * runner that applies them in the default profile's order and weights.
 */
import type { NodeInfo } from "./nodeinfo.js";
import type { NodeTable } from "./nodetable.js";
import type { PodInfo } from "./podinfo.js";
import { isRejected, MAX_NODE_SCORE, type Status, status } from "./types.js";

/** Read access to the cluster as the cache holds it during one (synchronous) scheduling cycle. */
export interface Snapshot {
  /** Every node, in sampling order. */
  nodes(): NodeInfo[];
  get(name: string): NodeInfo | undefined;
  nodesWithAffinityPods(): NodeInfo[];
  nodesWithRequiredAntiAffinityPods(): NodeInfo[];
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
  /** Every namespace with its labels. */
  namespaces(): Iterable<[string, Readonly<Record<string, string>>]>;
}

/** A plugin's cycle state; cloned for preemption dry runs and nominated-pod passes. */
export interface PluginState {
  clone(): PluginState;
}

export class CycleState {
  private readonly data = new Map<string, PluginState>();
  readonly skipFilter = new Set<string>();
  readonly skipScore = new Set<string>();

  read<T extends PluginState>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  write(key: string, s: PluginState): void {
    this.data.set(key, s);
  }

  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, v.clone());
    for (const s of this.skipFilter) c.skipFilter.add(s);
    for (const s of this.skipScore) c.skipScore.add(s);
    return c;
  }
}

/**
 * PreFilter's answer: null to go on, "skip" to leave this plugin's Filter out, a status, or the
 * only node names worth filtering (upstream PreFilterResult).
 */
export type PreFilterAnswer = Status | "skip" | null | { nodeNames: Set<string> };

export interface FilterPlugin {
  readonly name: string;
  preFilter?(state: CycleState, pod: PodInfo, snap: Snapshot): PreFilterAnswer;
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null;
  /** Fast path from the node table: true when the node surely passes (false: run filter). */
  passes?(table: NodeTable, slot: number, pod: PodInfo): boolean;
  /** PreFilter extensions: keep the state right when a pod is added to or removed from a node. */
  addPod?(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo, snap: Snapshot): void;
  removePod?(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo, snap: Snapshot): void;
}

export interface ScorePlugin {
  readonly name: string;
  readonly weight: number;
  /** false: this plugin does not score this pod (upstream Skip). */
  preScore?(state: CycleState, pod: PodInfo, nodes: NodeInfo[], snap: Snapshot): boolean;
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  /** Fast path from the node table: the raw score, or undefined to call score(). */
  fastScore?(table: NodeTable, slot: number, pod: PodInfo): number | undefined;
  /** Rewrites raw scores (same order as `nodes`) into 0..MAX_NODE_SCORE. */
  normalize?(state: CycleState, scores: number[], nodes: NodeInfo[]): void;
}

/** upstream DefaultNormalizeScore: scale to the highest score (or its complement when `reverse`). */
export function defaultNormalizeScore(scores: number[], reverse: boolean, max = MAX_NODE_SCORE): void {
  let top = 0;
  for (const s of scores) if (s > top) top = s;
  if (top === 0) {
    if (reverse) scores.fill(max);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    let s = Math.trunc((max * (scores[i] as number)) / top);
    if (reverse) s = max - s;
    scores[i] = s;
  }
}

export interface PreFilterOutcome {
  /** Set when a PreFilter plugin rejected the pod or failed. */
  status: Status | null;
  /** Plugins that rejected the pod or narrowed the nodes. */
  unschedulablePlugins: Set<string>;
  /** When plugins narrowed the nodes: the names left (intersection of their answers). */
  nodeNames: Set<string> | undefined;
}

export class Framework {
  readonly filters: readonly FilterPlugin[];
  readonly scorers: readonly ScorePlugin[];

  constructor(filters: FilterPlugin[], scorers: ScorePlugin[]) {
    this.filters = filters;
    this.scorers = scorers;
  }

  runPreFilter(state: CycleState, pod: PodInfo, snap: Snapshot): PreFilterOutcome {
    const unschedulablePlugins = new Set<string>();
    let nodeNames: Set<string> | undefined;
    let rejected: Status | undefined;
    const narrowing: string[] = [];
    for (const pl of this.filters) {
      if (!pl.preFilter) continue;
      let answer: PreFilterAnswer;
      try {
        answer = pl.preFilter(state, pod, snap);
      } catch (err) {
        const s = status("Error", pl.name, `running PreFilter plugin "${pl.name}": ${String(err)}`);
        return { status: s, unschedulablePlugins, nodeNames };
      }
      if (answer === "skip") {
        state.skipFilter.add(pl.name);
        continue;
      }
      if (answer === null) continue;
      if ("nodeNames" in answer) {
        const names = answer.nodeNames;
        narrowing.push(pl.name);
        unschedulablePlugins.add(pl.name);
        nodeNames = nodeNames === undefined ? new Set(names) : new Set([...nodeNames].filter((n) => names.has(n)));
        if (nodeNames.size === 0) {
          const msg =
            narrowing.length === 1
              ? `node(s) didn't satisfy plugin ${narrowing[0]}`
              : `node(s) didn't satisfy plugin(s) [${narrowing.join(" ")}] simultaneously`;
          return { status: status("UnschedulableAndUnresolvable", pl.name, msg), unschedulablePlugins, nodeNames };
        }
        continue;
      }
      if (answer.code === "Success") continue;
      answer.plugin = pl.name;
      if (isRejected(answer)) unschedulablePlugins.add(pl.name);
      // Unschedulable: preemption may still help, so the remaining PreFilters run (their state is needed)
      if (answer.code === "Unschedulable") {
        rejected ??= answer;
        continue;
      }
      return { status: answer, unschedulablePlugins, nodeNames };
    }
    return { status: rejected ?? null, unschedulablePlugins, nodeNames };
  }

  /** The filter plugins of this cycle (those PreFilter did not skip). */
  activeFilters(state: CycleState): FilterPlugin[] {
    return this.filters.filter((p) => !state.skipFilter.has(p.name));
  }

  /**
   * Runs the filters in order; the first that rejects the node answers (upstream RunFilterPlugins).
   * With the node's table slot, plugins with a fast path skip the node object when they can.
   */
  runFilter(
    filters: readonly FilterPlugin[],
    state: CycleState,
    pod: PodInfo,
    node: NodeInfo,
    table?: NodeTable,
    slot = -1,
  ): Status | null {
    for (const pl of filters) {
      if (slot >= 0 && table !== undefined && pl.passes?.(table, slot, pod)) continue;
      let s: Status | null;
      try {
        s = pl.filter(state, pod, node);
      } catch (err) {
        s = status("Error", pl.name, `running "${pl.name}" filter plugin: ${String(err)}`);
      }
      if (s === null || s.code === "Success") continue;
      s.plugin = pl.name;
      if (!isRejected(s)) s.code = "Error";
      return s;
    }
    return null;
  }

  /**
   * upstream RunFilterPluginsWithNominatedPods: when pods of equal or higher priority are
   * nominated to the node, the pod must fit both with them counted and without them.
   */
  runFilterWithNominated(
    filters: readonly FilterPlugin[],
    state: CycleState,
    pod: PodInfo,
    node: NodeInfo,
    nominated: readonly PodInfo[],
    snap: Snapshot,
  ): Status | null {
    const ahead = nominated.filter((p) => p.uid !== pod.uid && p.priority >= pod.priority);
    if (ahead.length === 0) return this.runFilter(filters, state, pod, node);
    const withState = state.clone();
    const withNode = node.clone();
    for (const p of ahead) {
      const placed = { ...p, nodeName: node.name };
      withNode.addPod(placed);
      this.runAddPod(withState, pod, placed, withNode, snap);
    }
    const first = this.runFilter(filters, withState, pod, withNode);
    if (first !== null) return first;
    return this.runFilter(filters, state, pod, node);
  }

  runAddPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo, snap: Snapshot): void {
    for (const pl of this.filters) {
      if (pl.addPod && !state.skipFilter.has(pl.name)) pl.addPod(state, pod, added, node, snap);
    }
  }

  runRemovePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo, snap: Snapshot): void {
    for (const pl of this.filters) {
      if (pl.removePod && !state.skipFilter.has(pl.name)) pl.removePod(state, pod, removed, node, snap);
    }
  }

  /**
   * PreScore, Score, NormalizeScore and weights: the total score of each node (same order).
   * `slots` (the nodes' table slots) enables the plugins' fast paths.
   */
  runScore(
    state: CycleState,
    pod: PodInfo,
    nodes: NodeInfo[],
    snap: Snapshot,
    table?: NodeTable,
    slots?: ArrayLike<number>,
  ): number[] {
    const totals = new Array<number>(nodes.length).fill(0);
    const scores = new Array<number>(nodes.length);
    for (const pl of this.scorers) {
      if (pl.preScore && !pl.preScore(state, pod, nodes, snap)) continue;
      if (pl.fastScore !== undefined && table !== undefined && slots !== undefined) {
        for (let i = 0; i < nodes.length; i++) {
          const fast = pl.fastScore(table, slots[i] as number, pod);
          scores[i] = fast ?? pl.score(state, pod, nodes[i] as NodeInfo);
        }
      } else {
        for (let i = 0; i < nodes.length; i++) scores[i] = pl.score(state, pod, nodes[i] as NodeInfo);
      }
      pl.normalize?.(state, scores, nodes);
      for (let i = 0; i < nodes.length; i++) totals[i] = (totals[i] as number) + (scores[i] as number) * pl.weight;
    }
    return totals;
  }
}
