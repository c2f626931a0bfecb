/**
 * Cluster changes that can make an unschedulable pod schedulable, and which rejecting plugin each
 * can help (upstream EventsToRegister with QueueingHints): a pod is moved back to the active (or
 * backoff) queue only when a plugin that rejected it registers for the change and its hint says
 * the change may help this pod.
 */
import type { NodeFacts, NodeInfo } from "./nodeinfo.js";
import { requiredNodeAffinityMatches } from "./nodeselector.js";
import { insufficientResources } from "./plugins/noderesources.js";
import { affinityTermMatches, type PodInfo } from "./podinfo.js";
import { firstUntoleratedTaint, tolerated, UNSCHEDULABLE_TAINT } from "./taints.js";
import { PluginName } from "./types.js";

export interface NodeChanges {
  labels: boolean;
  taints: boolean;
  allocatable: boolean;
  unschedulable: boolean;
}

export type ClusterEvent =
  | { kind: "NodeAdd"; node: NodeInfo }
  | { kind: "NodeUpdate"; node: NodeInfo; changes: NodeChanges }
  | { kind: "NodeDelete" }
  | { kind: "AssignedPodAdd"; pod: PodInfo }
  | { kind: "AssignedPodUpdate"; pod: PodInfo; labels: boolean; scaledDown: boolean }
  | { kind: "AssignedPodDelete"; pod: PodInfo }
  | { kind: "VolumeChange" };

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  let n = 0;
  for (const k in a) {
    n++;
    if (b[k] !== a[k]) return false;
  }
  for (const _ in b) n--;
  return n === 0;
}

/** What changed between two versions of a node, for the events above. */
export function nodeChanges(before: NodeFacts, after: NodeFacts): NodeChanges {
  const ta = JSON.stringify(before.taints);
  const tb = JSON.stringify(after.taints);
  const a = before.allocatable;
  const b = after.allocatable;
  const scalar = (r: NodeFacts["allocatable"]) => JSON.stringify([...(r.scalar ?? new Map())].sort());
  return {
    labels: !sameLabels(before.labels, after.labels),
    taints: ta !== tb,
    allocatable:
      a.milliCpu !== b.milliCpu ||
      a.memory !== b.memory ||
      a.ephemeralStorage !== b.ephemeralStorage ||
      a.allowedPods !== b.allowedPods ||
      scalar(a) !== scalar(b),
    unschedulable: before.unschedulable !== after.unschedulable,
  };
}

/** Could the event help a pod that `plugin` rejected? (the plugin's registration and queueing hint) */
export function pluginHint(plugin: string, pod: PodInfo, ev: ClusterEvent): boolean {
  switch (plugin) {
    case PluginName.NodeUnschedulable:
      if (ev.kind === "NodeAdd" || (ev.kind === "NodeUpdate" && (ev.changes.unschedulable || ev.changes.taints))) {
        return !ev.node.unschedulable || tolerated(UNSCHEDULABLE_TAINT, pod.tolerations);
      }
      return false;
    case PluginName.NodeName:
      return ev.kind === "NodeAdd" && (pod.nodeName === "" || pod.nodeName === ev.node.name);
    case PluginName.TaintToleration:
      if (ev.kind === "NodeAdd" || (ev.kind === "NodeUpdate" && ev.changes.taints)) {
        return firstUntoleratedTaint(ev.node.taints, pod.tolerations) === undefined;
      }
      return false;
    case PluginName.NodeAffinity:
      if (ev.kind === "NodeAdd" || (ev.kind === "NodeUpdate" && ev.changes.labels)) {
        return requiredNodeAffinityMatches(pod.requiredNodeAffinity, ev.node.name, ev.node.labels);
      }
      return false;
    case PluginName.NodePorts:
      return ev.kind === "NodeAdd" || (ev.kind === "AssignedPodDelete" && ev.pod.hostPorts.length > 0);
    case PluginName.NodeResourcesFit:
      if (ev.kind === "AssignedPodDelete") return true;
      if (ev.kind === "AssignedPodUpdate") return ev.scaledDown;
      if (ev.kind === "NodeAdd" || (ev.kind === "NodeUpdate" && ev.changes.allocatable)) {
        return fitsEmptyNode(pod, ev.node);
      }
      return false;
    case PluginName.PodTopologySpread:
      switch (ev.kind) {
        case "AssignedPodAdd":
        case "AssignedPodDelete":
          return spreadSelects(pod, ev.pod);
        case "AssignedPodUpdate":
          return ev.labels;
        case "NodeAdd":
        case "NodeDelete":
          return true;
        case "NodeUpdate":
          return ev.changes.labels || ev.changes.taints;
        default:
          return false;
      }
    case PluginName.InterPodAffinity:
      switch (ev.kind) {
        case "AssignedPodAdd":
          return [...pod.requiredAffinityTerms, ...pod.preferredAffinityTerms].some((t) =>
            affinityTermMatches(t, ev.pod, undefined),
          );
        case "AssignedPodDelete":
          return (
            ev.pod.requiredAntiAffinityTerms.length > 0 ||
            pod.requiredAntiAffinityTerms.some((t) => affinityTermMatches(t, ev.pod, undefined))
          );
        case "AssignedPodUpdate":
          return ev.labels;
        case "NodeAdd":
          return true;
        case "NodeUpdate":
          return ev.changes.labels;
        default:
          return false;
      }
    case PluginName.VolumeBinding:
      return ev.kind === "VolumeChange" || ev.kind === "NodeAdd" || ev.kind === "NodeUpdate";
    default:
      return true;
  }
}

function fitsEmptyNode(pod: PodInfo, node: NodeInfo): boolean {
  const empty = node.clone();
  empty.pods = [];
  empty.requested = { milliCpu: 0, memory: 0, ephemeralStorage: 0, allowedPods: 0, scalar: undefined };
  return insufficientResources(pod.requests, empty).length === 0;
}

function spreadSelects(pod: PodInfo, other: PodInfo): boolean {
  if (other.namespace !== pod.namespace) return false;
  return pod.spreadConstraints.some((c) => c.selector.matches(other.labels));
}

/** Pods rejected only by these plugins move on an event when one of them says it may help. */
export function eventMayHelp(plugins: ReadonlySet<string>, pod: PodInfo, ev: ClusterEvent): boolean {
  // rejected for another reason (an error): any change is worth a retry
  if (plugins.size === 0) return true;
  for (const p of plugins) if (pluginHint(p, pod, ev)) return true;
  return false;
}
