/**
 * NodeAffinity: spec.nodeSelector and required node affinity (Filter; PreFilter narrows the nodes
 * to those named by metadata.name matchFields), preferred node affinity weights (Score).
 */
import { defaultNormalizeScore, type FilterPlugin, type ScorePlugin } from "../framework.js";
import { requiredNodeAffinityMatches, termMatches } from "../nodeselector.js";
import { PluginName, status } from "../types.js";

export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_AFFINITY_CONFLICT = "pod affinity terms conflict";

export const nodeAffinityFilter: FilterPlugin = {
  name: PluginName.NodeAffinity,
  preFilter(_state, pod) {
    const req = pod.requiredNodeAffinity;
    if (req.affinity === undefined && req.nodeSelector === undefined) return "skip";
    if (req.affinity === undefined || req.affinity.terms.length === 0) return null;
    // affinity to specific node names (metadata.name In ...): only those nodes are considered
    let names: Set<string> | undefined;
    for (const t of req.affinity.terms) {
      let termNames: Set<string> | undefined;
      for (const f of t.fields) {
        if (f.key !== "metadata.name" || f.op !== "In") continue;
        const s = new Set(f.values);
        termNames = termNames === undefined ? s : new Set([...termNames].filter((n) => s.has(n)));
      }
      if (termNames === undefined) return null;
      names = names === undefined ? termNames : new Set([...names, ...termNames]);
    }
    if (names !== undefined && names.size === 0) {
      return status("UnschedulableAndUnresolvable", PluginName.NodeAffinity, REASON_AFFINITY_CONFLICT);
    }
    return names === undefined ? null : { nodeNames: names };
  },
  filter(_state, pod, node) {
    if (requiredNodeAffinityMatches(pod.requiredNodeAffinity, node.name, node.labels)) return null;
    return status("UnschedulableAndUnresolvable", PluginName.NodeAffinity, REASON_NODE_AFFINITY);
  },
};

export const nodeAffinityScore: ScorePlugin = {
  name: PluginName.NodeAffinity,
  weight: 2,
  preScore(_state, pod) {
    return pod.preferredNodeAffinity.length > 0;
  },
  score(_state, pod, node) {
    let n = 0;
    for (const p of pod.preferredNodeAffinity) if (termMatches(p.term, node.name, node.labels)) n += p.weight;
    return n;
  },
  normalize(_state, scores) {
    defaultNormalizeScore(scores, false);
  },
};
