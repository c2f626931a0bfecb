/**
 * TaintToleration: NoSchedule/NoExecute taints the pod does not tolerate keep it off (Filter);
 * fewer untolerated PreferNoSchedule taints score higher (Score, reversed normalisation).
 */
import { defaultNormalizeScore, type FilterPlugin, type ScorePlugin } from "../framework.js";
import { FLAG_HARD_TAINTS, FLAG_SOFT_TAINTS } from "../nodetable.js";
import { firstUntoleratedTaint, tolerated } from "../taints.js";
import { PluginName, status } from "../types.js";

export const taintTolerationFilter: FilterPlugin = {
  name: PluginName.TaintToleration,
  passes(table, slot) {
    return ((table.flags[slot] as number) & FLAG_HARD_TAINTS) === 0;
  },
  filter(_state, pod, node) {
    if (node.taints.length === 0) return null;
    const taint = firstUntoleratedTaint(node.taints, pod.tolerations);
    if (!taint) return null;
    return status(
      "UnschedulableAndUnresolvable",
      PluginName.TaintToleration,
      `node(s) had untolerated taint {${taint.key}: ${taint.value}}`,
    );
  },
};

export const taintTolerationScore: ScorePlugin = {
  name: PluginName.TaintToleration,
  weight: 3,
  fastScore(table, slot) {
    return ((table.flags[slot] as number) & FLAG_SOFT_TAINTS) === 0 ? 0 : undefined;
  },
  score(_state, pod, node) {
    let n = 0;
    for (const taint of node.taints) {
      if (taint.effect !== "PreferNoSchedule") continue;
      const prefer = pod.tolerations.filter((t) => t.effect === "" || t.effect === "PreferNoSchedule");
      if (!tolerated(taint, prefer)) n++;
    }
    return n;
  },
  normalize(_state, scores) {
    defaultNormalizeScore(scores, true);
  },
};
