/**
 * InterPodAffinity: required pod affinity and anti-affinity of the incoming pod, and existing
 * pods' required anti-affinity against it (Filter); preferred terms of both sides, and existing
 * pods' required affinity at hardPodAffinityWeight 1 (Score, min-max normalised).
 */

import { nothing } from "../../api/selectors/index.js";
import type { FilterPlugin, PluginState, ScorePlugin, Snapshot } from "../framework.js";
import type { NodeInfo } from "../nodeinfo.js";
import { type AffinityTerm, affinityTermMatches, type PodInfo, type WeightedAffinityTerm } from "../podinfo.js";
import { MAX_NODE_SCORE, PluginName, status } from "../types.js";

export const REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

const HARD_POD_AFFINITY_WEIGHT = 1;

/** Matching-term counts by topology pair "<key>\u0000<value>". */
type TopologyCounts = Map<string, number>;

function pairKey(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

function bump(m: TopologyCounts, node: NodeInfo, topologyKey: string, delta: number): void {
  const value = node.labels[topologyKey];
  if (value === undefined) return;
  const k = pairKey(topologyKey, value);
  const n = (m.get(k) ?? 0) + delta;
  if (n === 0) m.delete(k);
  else m.set(k, n);
}

/**
 * The incoming pod's terms with their namespaceSelector resolved against the namespaces now
 * (upstream mergeAffinityTermNamespacesIfNotEmpty): matching then needs no namespace labels.
 */
function mergeNamespaces<T extends AffinityTerm>(terms: readonly T[], snap: Snapshot): T[] {
  return terms.map((t) => {
    if (t.namespaceSelector.empty()) return t;
    const namespaces = new Set(t.namespaces);
    for (const [name, labels] of snap.namespaces()) if (t.namespaceSelector.matches(labels)) namespaces.add(name);
    return { ...t, namespaces, namespaceSelector: nothing() };
  });
}

function matchesAll(terms: readonly AffinityTerm[], pod: PodInfo): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!affinityTermMatches(t, pod, undefined)) return false;
  return true;
}

export class AffinityFilterState implements PluginState {
  constructor(
    readonly affinityTerms: AffinityTerm[],
    readonly antiAffinityTerms: AffinityTerm[],
    readonly nsLabels: Readonly<Record<string, string>> | undefined,
    readonly existingAntiAffinity: TopologyCounts,
    readonly affinity: TopologyCounts,
    readonly antiAffinity: TopologyCounts,
  ) {}

  clone(): AffinityFilterState {
    return new AffinityFilterState(
      this.affinityTerms,
      this.antiAffinityTerms,
      this.nsLabels,
      new Map(this.existingAntiAffinity),
      new Map(this.affinity),
      new Map(this.antiAffinity),
    );
  }

  /** Counts `other` (on `node`) in or out (upstream preFilterState.updateWithPod). */
  updateWithPod(pod: PodInfo, other: PodInfo, node: NodeInfo, delta: number): void {
    for (const t of other.requiredAntiAffinityTerms) {
      if (affinityTermMatches(t, pod, this.nsLabels)) bump(this.existingAntiAffinity, node, t.topologyKey, delta);
    }
    if (matchesAll(this.affinityTerms, other)) {
      for (const t of this.affinityTerms) bump(this.affinity, node, t.topologyKey, delta);
    }
    for (const t of this.antiAffinityTerms) {
      if (affinityTermMatches(t, other, undefined)) bump(this.antiAffinity, node, t.topologyKey, delta);
    }
  }
}

const FILTER_KEY = "InterPodAffinity/filter";
const SCORE_KEY = "InterPodAffinity/score";

/** upstream InterPodAffinity.PreFilter's counts; undefined when there is nothing to check. */
export function affinityFilterState(pod: PodInfo, snap: Snapshot): AffinityFilterState | undefined {
  const nsLabels = snap.namespaceLabels(pod.namespace);
  const s = new AffinityFilterState(
    mergeNamespaces(pod.requiredAffinityTerms, snap),
    mergeNamespaces(pod.requiredAntiAffinityTerms, snap),
    nsLabels,
    new Map(),
    new Map(),
    new Map(),
  );
  for (const node of snap.nodesWithRequiredAntiAffinityPods()) {
    for (const existing of node.podsWithRequiredAntiAffinity) {
      for (const t of existing.requiredAntiAffinityTerms) {
        if (affinityTermMatches(t, pod, nsLabels)) bump(s.existingAntiAffinity, node, t.topologyKey, 1);
      }
    }
  }
  if (s.affinityTerms.length > 0 || s.antiAffinityTerms.length > 0) {
    for (const node of snap.nodes()) {
      for (const existing of node.pods) {
        if (matchesAll(s.affinityTerms, existing)) {
          for (const t of s.affinityTerms) bump(s.affinity, node, t.topologyKey, 1);
        }
        for (const t of s.antiAffinityTerms) {
          if (affinityTermMatches(t, existing, undefined)) bump(s.antiAffinity, node, t.topologyKey, 1);
        }
      }
    }
  }
  if (s.existingAntiAffinity.size === 0 && s.affinityTerms.length === 0 && s.antiAffinityTerms.length === 0) {
    return undefined;
  }
  return s;
}

function satisfiesAffinity(s: AffinityFilterState, pod: PodInfo, node: NodeInfo): boolean {
  let podsExist = true;
  for (const t of s.affinityTerms) {
    const value = node.labels[t.topologyKey];
    if (value === undefined) return false;
    if ((s.affinity.get(pairKey(t.topologyKey, value)) ?? 0) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // the first pod of a group with affinity to itself: no pod matches anywhere yet, and it matches its own terms
  return s.affinity.size === 0 && matchesAll(s.affinityTerms, pod);
}

function satisfiesAntiAffinity(s: AffinityFilterState, node: NodeInfo): boolean {
  if (s.antiAffinity.size === 0) return true;
  for (const t of s.antiAffinityTerms) {
    const value = node.labels[t.topologyKey];
    if (value !== undefined && (s.antiAffinity.get(pairKey(t.topologyKey, value)) ?? 0) > 0) return false;
  }
  return true;
}

function satisfiesExistingAntiAffinity(s: AffinityFilterState, node: NodeInfo): boolean {
  if (s.existingAntiAffinity.size === 0) return true;
  for (const key in node.labels) {
    if ((s.existingAntiAffinity.get(pairKey(key, node.labels[key] as string)) ?? 0) > 0) return false;
  }
  return true;
}

export const interPodAffinityFilter: FilterPlugin = {
  name: PluginName.InterPodAffinity,
  preFilter(state, pod, snap) {
    const s = affinityFilterState(pod, snap);
    if (!s) return "skip";
    state.write(FILTER_KEY, s);
    return null;
  },
  filter(state, pod, node) {
    const s = state.read<AffinityFilterState>(FILTER_KEY);
    if (!s) return null;
    if (!satisfiesAffinity(s, pod, node)) {
      return status("UnschedulableAndUnresolvable", PluginName.InterPodAffinity, REASON_AFFINITY);
    }
    if (!satisfiesAntiAffinity(s, node)) {
      return status("Unschedulable", PluginName.InterPodAffinity, REASON_ANTI_AFFINITY);
    }
    if (!satisfiesExistingAntiAffinity(s, node)) {
      return status("Unschedulable", PluginName.InterPodAffinity, REASON_EXISTING_ANTI_AFFINITY);
    }
    return null;
  },
  addPod(state, pod, added, node) {
    state.read<AffinityFilterState>(FILTER_KEY)?.updateWithPod(pod, added, node, 1);
  },
  removePod(state, pod, removed, node) {
    state.read<AffinityFilterState>(FILTER_KEY)?.updateWithPod(pod, removed, node, -1);
  },
};

/** topology key → value → score */
type ScoreMap = Map<string, Map<string, number>>;

class AffinityScoreState implements PluginState {
  constructor(readonly scores: ScoreMap) {}
  clone(): AffinityScoreState {
    return this;
  }
}

function addScore(m: ScoreMap, node: NodeInfo, topologyKey: string, delta: number): void {
  const value = node.labels[topologyKey];
  if (value === undefined) return;
  let values = m.get(topologyKey);
  if (!values) {
    values = new Map();
    m.set(topologyKey, values);
  }
  values.set(value, (values.get(value) ?? 0) + delta);
}

function processTerms(
  m: ScoreMap,
  terms: readonly WeightedAffinityTerm[],
  pod: PodInfo,
  nsLabels: Readonly<Record<string, string>> | undefined,
  node: NodeInfo,
  sign: 1 | -1,
): void {
  for (const t of terms) if (affinityTermMatches(t, pod, nsLabels)) addScore(m, node, t.topologyKey, t.weight * sign);
}

/** upstream InterPodAffinity.PreScore: the score of each topology domain. */
export function affinityScores(pod: PodInfo, snap: Snapshot): ScoreMap {
  const preferred = mergeNamespaces(pod.preferredAffinityTerms, snap);
  const preferredAnti = mergeNamespaces(pod.preferredAntiAffinityTerms, snap);
  const hasConstraints = preferred.length > 0 || preferredAnti.length > 0;
  const nsLabels = snap.namespaceLabels(pod.namespace);
  const m: ScoreMap = new Map();
  const nodes = hasConstraints ? snap.nodes() : snap.nodesWithAffinityPods();
  for (const node of nodes) {
    let empty = true;
    for (const _ in node.labels) {
      empty = false;
      break;
    }
    if (empty) continue;
    for (const existing of hasConstraints ? node.pods : node.podsWithAffinity) {
      processTerms(m, preferred, existing, undefined, node, 1);
      processTerms(m, preferredAnti, existing, undefined, node, -1);
      for (const t of existing.requiredAffinityTerms) {
        if (affinityTermMatches(t, pod, nsLabels)) addScore(m, node, t.topologyKey, HARD_POD_AFFINITY_WEIGHT);
      }
      processTerms(m, existing.preferredAffinityTerms, pod, nsLabels, node, 1);
      processTerms(m, existing.preferredAntiAffinityTerms, pod, nsLabels, node, -1);
    }
  }
  return m;
}

export const interPodAffinityScore: ScorePlugin = {
  name: PluginName.InterPodAffinity,
  weight: 2,
  preScore(state, pod, nodes, snap) {
    if (nodes.length === 0) return false;
    const m = affinityScores(pod, snap);
    if (m.size === 0) return false;
    state.write(SCORE_KEY, new AffinityScoreState(m));
    return true;
  },
  score(state, _pod, node) {
    const s = state.read<AffinityScoreState>(SCORE_KEY);
    if (!s) return 0;
    let score = 0;
    for (const [key, values] of s.scores) {
      const v = node.labels[key];
      if (v !== undefined) score += values.get(v) ?? 0;
    }
    return score;
  },
  normalize(_state, scores) {
    minMaxNormalize(scores);
  },
};

/** upstream InterPodAffinity.NormalizeScore: (s - min) / (max - min) × 100, all 0 when flat. */
export function minMaxNormalize(scores: number[]): void {
  let min = Number.MAX_SAFE_INTEGER;
  let max = Number.MIN_SAFE_INTEGER;
  for (const s of scores) {
    if (s < min) min = s;
    if (s > max) max = s;
  }
  const diff = max - min;
  for (let i = 0; i < scores.length; i++) {
    scores[i] = diff > 0 ? Math.trunc(MAX_NODE_SCORE * (((scores[i] as number) - min) / diff)) : 0;
  }
}
