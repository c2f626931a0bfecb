/** NodeName: a pod that names a node fits only that node. */
import type { FilterPlugin } from "../framework.js";
import { PluginName, status } from "../types.js";

export const REASON_NODE_NAME = "node(s) didn't match the requested node name";

export const nodeName: FilterPlugin = {
  name: PluginName.NodeName,
  // nothing to check for a pod that names no node (the scheduler's own pods never do)
  preFilter(_state, pod) {
    return pod.nodeName === "" ? "skip" : null;
  },
  filter(_state, pod, node) {
    if (pod.nodeName === "" || pod.nodeName === node.name) return null;
    return status("UnschedulableAndUnresolvable", PluginName.NodeName, REASON_NODE_NAME);
  },
};
