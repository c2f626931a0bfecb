/** NodePorts: a host port (IP, protocol, port) can be held by one pod per node; 0.0.0.0 takes every IP. */
import type { FilterPlugin } from "../framework.js";
import { portConflicts } from "../nodeinfo.js";
import { PluginName, status } from "../types.js";

export const REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

export const nodePorts: FilterPlugin = {
  name: PluginName.NodePorts,
  preFilter(_state, pod) {
    return pod.hostPorts.length === 0 ? "skip" : null;
  },
  filter(_state, pod, node) {
    for (const hp of pod.hostPorts) {
      if (portConflicts(node.usedPorts, hp.ip, hp.protocol, hp.port)) {
        return status("Unschedulable", PluginName.NodePorts, REASON_NODE_PORTS);
      }
    }
    return null;
  },
};
