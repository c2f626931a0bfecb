/** NodeUnschedulable: spec.unschedulable keeps pods off unless they tolerate node.kubernetes.io/unschedulable:NoSchedule. */
import type { FilterPlugin } from "../framework.js";
import { FLAG_UNSCHEDULABLE } from "../nodetable.js";
import { tolerated, UNSCHEDULABLE_TAINT } from "../taints.js";
import { PluginName, status } from "../types.js";

export const REASON_UNSCHEDULABLE = "node(s) were unschedulable";

export const nodeUnschedulable: FilterPlugin = {
  name: PluginName.NodeUnschedulable,
  passes(table, slot) {
    return ((table.flags[slot] as number) & FLAG_UNSCHEDULABLE) === 0;
  },
  filter(_state, pod, node) {
    if (!node.unschedulable || tolerated(UNSCHEDULABLE_TAINT, pod.tolerations)) return null;
    return status("UnschedulableAndUnresolvable", PluginName.NodeUnschedulable, REASON_UNSCHEDULABLE);
  },
};
