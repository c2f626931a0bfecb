/**
 * Where a DaemonSet's pods belong (upstream pkg/controller/daemon and daemon/util): the tolerations
 * every daemon pod gets, which nodes should run one, the node-name affinity that pins a pod to its
 * node for the scheduler, and the node a pod is meant for.
 */
import { isRecord, type KObject } from "../../api/types.js";
import { requiredNodeAffinityMatches } from "../../scheduler/nodeselector.js";
import { podInfoOf } from "../../scheduler/podinfo.js";
import { parseTaints, tolerated } from "../../scheduler/taints.js";

type Rec = Record<string, unknown>;

function rec(v: unknown): Rec {
  return isRecord(v) ? v : {};
}

/** Upstream AddOrUpdateDaemonPodTolerations: node problems never keep a daemon pod off its node. */
export function daemonTolerations(spec: Rec): Rec[] {
  const wanted: Rec[] = [
    { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
    { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
    { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
  ];
  if (spec["hostNetwork"] === true) {
    wanted.push({ key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule" });
  }
  const out = Array.isArray(spec["tolerations"]) ? spec["tolerations"].filter(isRecord).map((t) => ({ ...t })) : [];
  // an existing toleration of the same key and effect is replaced, as upstream's AddOrUpdateTolerationInPod
  for (const w of wanted) {
    const i = out.findIndex((t) => t["key"] === w["key"] && t["effect"] === w["effect"]);
    if (i >= 0) out[i] = w;
    else out.push(w);
  }
  return out;
}

/**
 * Upstream ReplaceDaemonSetPodNodeNameNodeAffinity: every required term gets a matchFields
 * `metadata.name In [node]` (in place of any matchFields it had); a term is made when there is none.
 */
export function pinnedAffinity(affinity: unknown, nodeName: string): Rec {
  const field = [{ key: "metadata.name", operator: "In", values: [nodeName] }];
  const a = structuredClone(rec(affinity));
  const na = rec(a["nodeAffinity"]);
  const required = rec(na["requiredDuringSchedulingIgnoredDuringExecution"]);
  const terms = Array.isArray(required["nodeSelectorTerms"]) ? required["nodeSelectorTerms"].filter(isRecord) : [];
  const next = terms.length === 0 ? [{ matchFields: field }] : terms.map((t) => ({ ...t, matchFields: field }));
  return {
    ...a,
    nodeAffinity: { ...na, requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: next } },
  };
}

/** The node a daemon pod is for: its nodeName, else the node its required affinity pins (upstream GetTargetNodeName). */
export function targetNode(pod: KObject): string | undefined {
  const spec = rec(pod["spec"]);
  if (typeof spec["nodeName"] === "string" && spec["nodeName"] !== "") return spec["nodeName"];
  const terms = rec(rec(rec(spec["affinity"])["nodeAffinity"])["requiredDuringSchedulingIgnoredDuringExecution"])[
    "nodeSelectorTerms"
  ];
  if (!Array.isArray(terms)) return undefined;
  for (const t of terms) {
    for (const f of Array.isArray(rec(t)["matchFields"]) ? (rec(t)["matchFields"] as unknown[]) : []) {
      const r = rec(f);
      const values = r["values"];
      if (r["key"] === "metadata.name" && r["operator"] === "In" && Array.isArray(values) && values.length === 1) {
        return String(values[0]);
      }
    }
  }
  return undefined;
}

/** What the set's template asks of a node, parsed once per sync. */
export interface DaemonTemplate {
  nodeName: string;
  matches: (nodeName: string, labels: Record<string, string>) => boolean;
  tolerations: ReturnType<typeof podInfoOf>["tolerations"];
}

export function daemonTemplate(ds: KObject): DaemonTemplate {
  const spec = rec(rec(rec(ds["spec"])["template"])["spec"]);
  const info = podInfoOf({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "", namespace: ds.metadata.namespace },
    spec: { ...spec, tolerations: daemonTolerations(spec) },
  });
  return {
    nodeName: typeof spec["nodeName"] === "string" ? spec["nodeName"] : "",
    matches: (name, labels) => requiredNodeAffinityMatches(info.requiredNodeAffinity, name, labels),
    tolerations: info.tolerations,
  };
}

/**
 * Upstream NodeShouldRunDaemonPod: `run` when the node's name, labels and taints (NoSchedule and
 * NoExecute) admit the pod; `keep` (a running pod may stay) when only NoSchedule taints are not tolerated.
 */
export function shouldRun(t: DaemonTemplate, node: KObject): { run: boolean; keep: boolean } {
  const name = node.metadata.name ?? "";
  if (t.nodeName !== "" && t.nodeName !== name) return { run: false, keep: false };
  if (!t.matches(name, node.metadata.labels ?? {})) return { run: false, keep: false };
  const taints = parseTaints(rec(node["spec"])["taints"]);
  const untolerated = taints.filter(
    (x) => (x.effect === "NoSchedule" || x.effect === "NoExecute") && !tolerated(x, t.tolerations),
  );
  if (untolerated.length === 0) return { run: true, keep: true };
  return { run: false, keep: !untolerated.some((x) => x.effect === "NoExecute") };
}
