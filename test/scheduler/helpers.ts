/** Builders for scheduler unit tests: Node and Pod objects, node infos, a snapshot, a framework. */
import type { KObject } from "../../src/api/types.js";
import { SchedulerCache } from "../../src/scheduler/cache.js";
import { CycleState, Framework, type Snapshot } from "../../src/scheduler/framework.js";
import { NodeInfo } from "../../src/scheduler/nodeinfo.js";
import { interPodAffinityFilter, interPodAffinityScore } from "../../src/scheduler/plugins/interpodaffinity.js";
import { nodeAffinityFilter, nodeAffinityScore } from "../../src/scheduler/plugins/nodeaffinity.js";
import { nodeName } from "../../src/scheduler/plugins/nodename.js";
import { nodePorts } from "../../src/scheduler/plugins/nodeports.js";
import {
  nodeResourcesBalancedAllocation,
  nodeResourcesFit,
  nodeResourcesFitScore,
} from "../../src/scheduler/plugins/noderesources.js";
import { nodeUnschedulable } from "../../src/scheduler/plugins/nodeunschedulable.js";
import { podTopologySpreadFilter, podTopologySpreadScore } from "../../src/scheduler/plugins/podtopologyspread.js";
import { taintTolerationFilter, taintTolerationScore } from "../../src/scheduler/plugins/tainttoleration.js";
import { type PodInfo, podInfoOf } from "../../src/scheduler/podinfo.js";

export interface NodeSpec {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: string }>;
  unschedulable?: boolean;
  extra?: Record<string, string>;
}

export function node(name: string, s: NodeSpec = {}): KObject {
  const alloc = { cpu: s.cpu ?? "4", memory: s.memory ?? "8Gi", pods: s.pods ?? "110", ...s.extra };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...s.labels } },
    spec: { ...(s.taints ? { taints: s.taints } : {}), ...(s.unschedulable ? { unschedulable: true } : {}) },
    status: { capacity: alloc, allocatable: alloc },
  };
}

export interface PodSpec {
  cpu?: string;
  memory?: string;
  requests?: Record<string, string>;
  labels?: Record<string, string>;
  namespace?: string;
  priority?: number;
  nodeName?: string;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  terminating?: boolean;
}

let uid = 0;

export function podObj(name: string, s: PodSpec = {}): KObject {
  const requests: Record<string, string> = { ...s.requests };
  if (s.cpu) requests["cpu"] = s.cpu;
  if (s.memory) requests["memory"] = s.memory;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: s.namespace ?? "default",
      uid: `uid-${name}-${++uid}`,
      labels: s.labels ?? {},
      ...(s.terminating ? { deletionTimestamp: "2024-01-01T00:00:00Z" } : {}),
    },
    spec: {
      schedulerName: "default-scheduler",
      priority: s.priority ?? 0,
      ...(s.nodeName ? { nodeName: s.nodeName } : {}),
      containers: [{ name: "c", image: "pause", resources: { requests } }],
      ...s.spec,
    },
    status: { phase: "Pending", ...s.status },
  };
}

export function pod(name: string, s: PodSpec = {}): PodInfo {
  return podInfoOf(podObj(name, s));
}

/** A node info with the given pods placed on it. */
export function nodeInfo(n: KObject, pods: PodInfo[] = []): NodeInfo {
  const info = new NodeInfo(n.metadata.name ?? "");
  info.setNode(n);
  for (const p of pods) info.addPod({ ...p, nodeName: info.name });
  return info;
}

/** A cache holding these nodes and (bound) pods, with a snapshot over it. */
export function cluster(
  nodes: KObject[],
  bound: Array<[string, PodInfo]> = [],
  nsLabels: Record<string, Record<string, string>> = {},
) {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.setNode(n);
  for (const [nodeName, p] of bound) cache.addPod({ ...p, nodeName });
  const namespaces = new Map(Object.entries(nsLabels));
  const snap: Snapshot = {
    nodes: () => cache.list(),
    get: (name) => cache.get(name),
    nodesWithAffinityPods: () => cache.nodesWithAffinityPods(),
    nodesWithRequiredAntiAffinityPods: () => cache.nodesWithRequiredAntiAffinityPods(),
    namespaceLabels: (ns) => namespaces.get(ns),
    namespaces: () => namespaces.entries(),
  };
  return { cache, snap };
}

export const defaultFramework = () =>
  new Framework(
    [
      nodeUnschedulable,
      nodeName,
      taintTolerationFilter,
      nodeAffinityFilter,
      nodePorts,
      nodeResourcesFit,
      podTopologySpreadFilter,
      interPodAffinityFilter,
    ],
    [
      taintTolerationScore,
      nodeAffinityScore,
      nodeResourcesFitScore,
      podTopologySpreadScore,
      interPodAffinityScore,
      nodeResourcesBalancedAllocation,
    ],
  );

/** Runs PreFilter then Filter on every node; the status text per node ("" when it fits). */
export function filterAll(p: PodInfo, snap: Snapshot, fw = defaultFramework()): Record<string, string> {
  const state = new CycleState();
  const pre = fw.runPreFilter(state, p, snap);
  const out: Record<string, string> = {};
  for (const n of snap.nodes()) {
    if (pre.status) {
      out[n.name] = `${pre.status.code}: ${pre.status.reasons.join(", ")}`;
      continue;
    }
    if (pre.nodeNames && !pre.nodeNames.has(n.name)) {
      out[n.name] = "not a PreFilter node";
      continue;
    }
    const s = fw.runFilter(fw.activeFilters(state), state, p, n);
    out[n.name] = s === null ? "" : `${s.code}: ${s.reasons.join(", ")}`;
  }
  return out;
}
