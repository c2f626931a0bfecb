/**
 * PodTopologySpread: hard constraints (whenUnsatisfiable: DoNotSchedule) as a Filter — placing the
 * pod must not push a domain's matching-pod count more than maxSkew above the global minimum — and
 * soft ones (ScheduleAnyway) as a Score that prefers emptier domains. Cluster-level default
 * constraints are not applied (only the pod's own).
 */
import type { CycleState, FilterPlugin, PluginState, ScorePlugin } from "../framework.js";
import type { NodeInfo } from "../nodeinfo.js";
import { requiredNodeAffinityMatches } from "../nodeselector.js";
import type { PodInfo, SpreadConstraint } from "../podinfo.js";
import { firstUntoleratedTaint } from "../taints.js";
import { MAX_NODE_SCORE, PluginName, status } from "../types.js";

export const REASON_SPREAD = "node(s) didn't match pod topology spread constraints";
export const REASON_SPREAD_LABEL = `${REASON_SPREAD} (missing required label)`;

const HOSTNAME = "kubernetes.io/hostname";
const MAX_INT32 = 2147483647;

/** Pods of `namespace` matching the selector, not being deleted (an empty selector counts nothing). */
export function countMatching(pods: readonly PodInfo[], c: SpreadConstraint, namespace: string): number {
  if (c.selector.empty()) return 0;
  let n = 0;
  for (const p of pods) {
    if (p.terminating || p.namespace !== namespace) continue;
    if (c.selector.matches(p.labels)) n++;
  }
  return n;
}

function hasAllKeys(labels: Readonly<Record<string, string>>, cs: readonly SpreadConstraint[]): boolean {
  for (const c of cs) if (!Object.hasOwn(labels, c.topologyKey)) return false;
  return true;
}

/** nodeAffinityPolicy / nodeTaintsPolicy: does this node's domain count for the constraint? */
function nodeIncluded(c: SpreadConstraint, pod: PodInfo, node: NodeInfo): boolean {
  if (
    c.nodeAffinityPolicy === "Honor" &&
    !requiredNodeAffinityMatches(pod.requiredNodeAffinity, node.name, node.labels)
  ) {
    return false;
  }
  if (c.nodeTaintsPolicy === "Honor" && firstUntoleratedTaint(node.taints, pod.tolerations) !== undefined) return false;
  return true;
}

/** The two smallest domain counts (upstream criticalPaths), updated as counts change. */
export class CriticalPaths {
  value0 = "";
  num0 = MAX_INT32;
  value1 = "";
  num1 = MAX_INT32;

  update(value: string, num: number): void {
    if (value === this.value0 || value === this.value1) {
      if (value === this.value0) this.num0 = num;
      else this.num1 = num;
      if (this.num0 > this.num1) {
        [this.value0, this.value1] = [this.value1, this.value0];
        [this.num0, this.num1] = [this.num1, this.num0];
      }
    } else if (num < this.num0) {
      this.value1 = this.value0;
      this.num1 = this.num0;
      this.value0 = value;
      this.num0 = num;
    } else if (num < this.num1) {
      this.value1 = value;
      this.num1 = num;
    }
  }

  clone(): CriticalPaths {
    const c = new CriticalPaths();
    c.value0 = this.value0;
    c.num0 = this.num0;
    c.value1 = this.value1;
    c.num1 = this.num1;
    return c;
  }
}

export class SpreadFilterState implements PluginState {
  constructor(
    readonly constraints: SpreadConstraint[],
    /** Per constraint: domain value → matching pods. */
    readonly counts: Map<string, number>[],
    readonly paths: CriticalPaths[],
  ) {}

  clone(): SpreadFilterState {
    return new SpreadFilterState(
      this.constraints,
      this.counts.map((m) => new Map(m)),
      this.paths.map((p) => p.clone()),
    );
  }

  minMatch(i: number): number {
    const c = this.constraints[i] as SpreadConstraint;
    const domains = (this.counts[i] as Map<string, number>).size;
    return domains < c.minDomains ? 0 : (this.paths[i] as CriticalPaths).num0;
  }

  update(i: number, value: string, delta: number): void {
    const m = this.counts[i] as Map<string, number>;
    const n = (m.get(value) ?? 0) + delta;
    m.set(value, n);
    (this.paths[i] as CriticalPaths).update(value, n);
  }
}

const FILTER_KEY = "PodTopologySpread/filter";
const SCORE_KEY = "PodTopologySpread/score";

/** The hard constraints' domain counts over every eligible node (upstream calPreFilterState). */
export function spreadFilterState(pod: PodInfo, nodes: readonly NodeInfo[]): SpreadFilterState {
  const cs = pod.spreadConstraints.filter((c) => c.whenUnsatisfiable === "DoNotSchedule");
  const counts = cs.map(() => new Map<string, number>());
  for (const node of nodes) {
    if (!hasAllKeys(node.labels, cs)) continue;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i] as SpreadConstraint;
      if (!nodeIncluded(c, pod, node)) continue;
      const value = node.labels[c.topologyKey] as string;
      const m = counts[i] as Map<string, number>;
      m.set(value, (m.get(value) ?? 0) + countMatching(node.pods, c, pod.namespace));
    }
  }
  const paths = counts.map((m) => {
    const p = new CriticalPaths();
    for (const [v, n] of m) p.update(v, n);
    return p;
  });
  return new SpreadFilterState(cs, counts, paths);
}

function updateWithPod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, delta: number): void {
  const s = state.read<SpreadFilterState>(FILTER_KEY);
  if (!s || other.namespace !== pod.namespace || !hasAllKeys(node.labels, s.constraints)) return;
  for (let i = 0; i < s.constraints.length; i++) {
    const c = s.constraints[i] as SpreadConstraint;
    if (!c.selector.matches(other.labels) || !nodeIncluded(c, pod, node)) continue;
    s.update(i, node.labels[c.topologyKey] as string, delta);
  }
}

export const podTopologySpreadFilter: FilterPlugin = {
  name: PluginName.PodTopologySpread,
  preFilter(state, pod, snap) {
    if (!pod.spreadConstraints.some((c) => c.whenUnsatisfiable === "DoNotSchedule")) return "skip";
    state.write(FILTER_KEY, spreadFilterState(pod, snap.nodes()));
    return null;
  },
  filter(state, pod, node) {
    const s = state.read<SpreadFilterState>(FILTER_KEY);
    if (!s) return null;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i] as SpreadConstraint;
      const value = node.labels[c.topologyKey];
      if (value === undefined) {
        return status("UnschedulableAndUnresolvable", PluginName.PodTopologySpread, REASON_SPREAD_LABEL);
      }
      const self = c.selector.matches(pod.labels) ? 1 : 0;
      const matchNum = (s.counts[i] as Map<string, number>).get(value) ?? 0;
      if (matchNum + self - s.minMatch(i) > c.maxSkew) {
        return status("Unschedulable", PluginName.PodTopologySpread, REASON_SPREAD);
      }
    }
    return null;
  },
  addPod(state, pod, added, node) {
    updateWithPod(state, pod, added, node, 1);
  },
  removePod(state, pod, removed, node) {
    updateWithPod(state, pod, removed, node, -1);
  },
};

class SpreadScoreState implements PluginState {
  constructor(
    readonly constraints: SpreadConstraint[],
    readonly counts: Map<string, number>[],
    readonly weights: number[],
    readonly ignored: Set<string>,
  ) {}

  clone(): SpreadScoreState {
    return this;
  }
}

/** upstream scoreForCount. */
export function scoreForCount(count: number, maxSkew: number, weight: number): number {
  return count * weight + (maxSkew - 1);
}

/** Soft-constraint state over the feasible nodes (upstream initPreScoreState + PreScore). */
function spreadScoreState(pod: PodInfo, filtered: readonly NodeInfo[], all: readonly NodeInfo[]): SpreadScoreState {
  const cs = pod.spreadConstraints.filter((c) => c.whenUnsatisfiable === "ScheduleAnyway");
  const counts = cs.map(() => new Map<string, number>());
  const ignored = new Set<string>();
  const sizes = cs.map(() => 0);
  for (const node of filtered) {
    if (!hasAllKeys(node.labels, cs)) {
      ignored.add(node.name);
      continue;
    }
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i] as SpreadConstraint;
      if (c.topologyKey === HOSTNAME) continue;
      const value = node.labels[c.topologyKey] as string;
      const m = counts[i] as Map<string, number>;
      if (!m.has(value)) {
        m.set(value, 0);
        sizes[i] = (sizes[i] as number) + 1;
      }
    }
  }
  const weights = cs.map((c, i) =>
    Math.log((c.topologyKey === HOSTNAME ? filtered.length - ignored.size : (sizes[i] as number)) + 2),
  );
  for (const node of all) {
    if (!hasAllKeys(node.labels, cs)) continue;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i] as SpreadConstraint;
      if (!nodeIncluded(c, pod, node)) continue;
      const m = counts[i] as Map<string, number>;
      const value = node.labels[c.topologyKey] as string;
      const cur = m.get(value);
      if (cur === undefined) continue;
      m.set(value, cur + countMatching(node.pods, c, pod.namespace));
    }
  }
  return new SpreadScoreState(cs, counts, weights, ignored);
}

export const podTopologySpreadScore: ScorePlugin = {
  name: PluginName.PodTopologySpread,
  weight: 2,
  preScore(state, pod, nodes, snap) {
    if (!pod.spreadConstraints.some((c) => c.whenUnsatisfiable === "ScheduleAnyway")) return false;
    if (nodes.length === 0) return false;
    state.write(SCORE_KEY, spreadScoreState(pod, nodes, snap.nodes()));
    return true;
  },
  score(state, pod, node) {
    const s = state.read<SpreadScoreState>(SCORE_KEY);
    if (!s || s.ignored.has(node.name)) return 0;
    let score = 0;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i] as SpreadConstraint;
      const value = node.labels[c.topologyKey];
      if (value === undefined) continue;
      const count =
        c.topologyKey === HOSTNAME
          ? countMatching(node.pods, c, pod.namespace)
          : ((s.counts[i] as Map<string, number>).get(value) ?? 0);
      score += scoreForCount(count, c.maxSkew, s.weights[i] as number);
    }
    return Math.round(score);
  },
  normalize(state, scores, nodes) {
    const s = state.read<SpreadScoreState>(SCORE_KEY);
    if (!s) return;
    normalizeSpreadScores(
      scores,
      nodes.map((n) => s.ignored.has(n.name)),
    );
  },
};

/** upstream NormalizeScore: fewer matching pods scores higher; ignored nodes get 0. */
export function normalizeSpreadScores(scores: number[], ignored: readonly boolean[]): void {
  let min = Number.MAX_SAFE_INTEGER;
  let max = 0;
  for (let i = 0; i < scores.length; i++) {
    if (ignored[i]) continue;
    const s = scores[i] as number;
    if (s < min) min = s;
    if (s > max) max = s;
  }
  for (let i = 0; i < scores.length; i++) {
    if (ignored[i]) {
      scores[i] = 0;
      continue;
    }
    if (max === 0) {
      scores[i] = MAX_NODE_SCORE;
      continue;
    }
    scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - (scores[i] as number))) / max);
  }
}
