/**
 * A pod as the scheduler reads it (upstream framework.PodInfo): parsed once per object version —
 * requests, host ports, tolerations, node affinity, pod (anti-)affinity terms and topology spread
 * constraints — so filters and scores never walk the JSON. Odd objects parse to something safe:
 * unknown shapes are ignored, bad quantities and selectors are recorded as errors.
 */
import { type LabelSelector, LabelSelectorError, labelSelectorFromObject, nothing } from "../api/selectors/index.js";
import { isRecord, type KObject } from "../api/types.js";
import { NodeSelector, parseSelectorTerm, type RequiredNodeAffinity, type SelectorTerm } from "./nodeselector.js";
import { podRequests } from "./resources.js";
import { parseTolerations, type Toleration } from "./taints.js";
import type { Resources } from "./types.js";

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

export interface AffinityTerm {
  namespaces: Set<string>;
  selector: LabelSelector;
  topologyKey: string;
  namespaceSelector: LabelSelector;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

export interface PreferredNodeTerm {
  weight: number;
  term: SelectorTerm;
}

export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: string;
  selector: LabelSelector;
  minDomains: number;
  nodeAffinityPolicy: "Honor" | "Ignore";
  nodeTaintsPolicy: "Honor" | "Ignore";
}

export interface PodInfo {
  /** "<namespace>/<name>" */
  key: string;
  uid: string;
  namespace: string;
  name: string;
  /** The cached object (never mutated). */
  obj: KObject;
  labels: Readonly<Record<string, string>>;
  priority: number;
  preemptionPolicy: string;
  schedulerName: string;
  nodeName: string;
  nominatedNodeName: string;
  terminating: boolean;
  /** Succeeded or Failed: holds no resources. */
  terminal: boolean;
  /** status.startTime in ms, if the pod started. */
  startTime: number | undefined;
  requests: Resources;
  nonZeroCpu: number;
  nonZeroMemory: number;
  hostPorts: HostPort[];
  tolerations: Toleration[];
  requiredNodeAffinity: RequiredNodeAffinity;
  preferredNodeAffinity: PreferredNodeTerm[];
  requiredAffinityTerms: AffinityTerm[];
  requiredAntiAffinityTerms: AffinityTerm[];
  preferredAffinityTerms: WeightedAffinityTerm[];
  preferredAntiAffinityTerms: WeightedAffinityTerm[];
  spreadConstraints: SpreadConstraint[];
  /** spec.schedulingGates is not empty: the pod waits outside the active queue (SchedulingGates plugin). */
  gated: boolean;
  /** The pod uses PersistentVolumeClaims (persistentVolumeClaim or ephemeral volumes). */
  hasClaims: boolean;
  /** Why the pod cannot be scheduled as written (bad quantity, bad selector), if anything. */
  errors: string[];
}

function rec(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** A label map without a prototype, so looking up any key (even "constructor") is safe. */
function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!isRecord(v)) return out;
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (typeof x === "string") out[k] = x;
  }
  return out;
}

function selectorOf(v: unknown, errors: string[]): LabelSelector {
  try {
    return labelSelectorFromObject(v);
  } catch (err) {
    errors.push(err instanceof LabelSelectorError ? err.message : String(err));
    return nothing();
  }
}

function hostPortsOf(spec: Record<string, unknown>): HostPort[] {
  const out: HostPort[] = [];
  const containers = [
    ...(Array.isArray(spec["containers"]) ? spec["containers"] : []),
    ...(Array.isArray(spec["initContainers"]) ? spec["initContainers"] : []).filter(
      (c) => isRecord(c) && c["restartPolicy"] === "Always",
    ),
  ];
  for (const c of containers) {
    if (!isRecord(c) || !Array.isArray(c["ports"])) continue;
    for (const p of c["ports"]) {
      if (!isRecord(p)) continue;
      const port = typeof p["hostPort"] === "number" ? p["hostPort"] : 0;
      if (port <= 0) continue;
      out.push({ ip: str(p["hostIP"]) || "0.0.0.0", protocol: str(p["protocol"]) || "TCP", port });
    }
  }
  return out;
}

/** upstream newAffinityTerm: no namespaces and no namespaceSelector means the pod's own namespace. */
function affinityTerm(pod: { namespace: string }, t: Record<string, unknown>, errors: string[]): AffinityTerm {
  const nsList = Array.isArray(t["namespaces"]) ? t["namespaces"].filter((n) => typeof n === "string") : [];
  const hasNsSelector = t["namespaceSelector"] !== undefined && t["namespaceSelector"] !== null;
  const namespaces = new Set<string>(nsList.length === 0 && !hasNsSelector ? [pod.namespace] : nsList);
  return {
    namespaces,
    selector: selectorOf(t["labelSelector"], errors),
    topologyKey: str(t["topologyKey"]),
    namespaceSelector: selectorOf(t["namespaceSelector"], errors),
  };
}

function affinityTerms(pod: { namespace: string }, v: unknown, errors: string[]): AffinityTerm[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isRecord).map((t) => affinityTerm(pod, t, errors));
}

function weightedTerms(pod: { namespace: string }, v: unknown, errors: string[]): WeightedAffinityTerm[] {
  if (!Array.isArray(v)) return [];
  const out: WeightedAffinityTerm[] = [];
  for (const w of v) {
    if (!isRecord(w)) continue;
    const weight = typeof w["weight"] === "number" ? w["weight"] : 0;
    out.push({ ...affinityTerm(pod, rec(w["podAffinityTerm"]), errors), weight });
  }
  return out;
}

/** The constraint's selector; matchLabelKeys adds "key In (the pod's value)" for the pod's own labels. */
function spreadSelector(raw: Record<string, unknown>, labels: Readonly<Record<string, string>>, errors: string[]) {
  const ls = raw["labelSelector"];
  const keys = raw["matchLabelKeys"];
  if (!isRecord(ls) || !Array.isArray(keys) || keys.length === 0) return selectorOf(ls, errors);
  const exprs: unknown[] = Array.isArray(ls["matchExpressions"]) ? [...ls["matchExpressions"]] : [];
  for (const k of keys) {
    if (typeof k === "string" && Object.hasOwn(labels, k)) exprs.push({ key: k, operator: "In", values: [labels[k]] });
  }
  return selectorOf({ ...ls, matchExpressions: exprs }, errors);
}

function spreadConstraints(v: unknown, labels: Readonly<Record<string, string>>, errors: string[]): SpreadConstraint[] {
  if (!Array.isArray(v)) return [];
  const out: SpreadConstraint[] = [];
  for (const raw of v) {
    if (!isRecord(raw)) continue;
    out.push({
      maxSkew: typeof raw["maxSkew"] === "number" ? raw["maxSkew"] : 1,
      topologyKey: str(raw["topologyKey"]),
      whenUnsatisfiable: str(raw["whenUnsatisfiable"]) || "DoNotSchedule",
      selector: spreadSelector(raw, labels, errors),
      minDomains: typeof raw["minDomains"] === "number" ? raw["minDomains"] : 1,
      nodeAffinityPolicy: raw["nodeAffinityPolicy"] === "Ignore" ? "Ignore" : "Honor",
      nodeTaintsPolicy: raw["nodeTaintsPolicy"] === "Honor" ? "Honor" : "Ignore",
    });
  }
  return out;
}

function preferredNodeTerms(v: unknown): PreferredNodeTerm[] {
  if (!Array.isArray(v)) return [];
  const out: PreferredNodeTerm[] = [];
  for (const p of v) {
    if (!isRecord(p)) continue;
    const weight = typeof p["weight"] === "number" ? p["weight"] : 0;
    if (weight === 0) continue;
    out.push({ weight, term: parseSelectorTerm(p["preference"]) });
  }
  return out;
}

/** Parses a pod object; never throws. */
export function podInfoOf(obj: KObject): PodInfo {
  const meta = obj.metadata ?? {};
  const namespace = typeof meta.namespace === "string" ? meta.namespace : "";
  const name = typeof meta.name === "string" ? meta.name : "";
  const spec = rec(obj["spec"]);
  const status = rec(obj["status"]);
  const labels = stringMap(meta.labels);
  const errors: string[] = [];
  const req = podRequests(spec);
  for (const r of req.invalid) errors.push(`invalid quantity for resource ${JSON.stringify(r)}`);
  const affinity = rec(spec["affinity"]);
  const nodeAff = rec(affinity["nodeAffinity"]);
  const podAff = rec(affinity["podAffinity"]);
  const antiAff = rec(affinity["podAntiAffinity"]);
  const self = { namespace };
  const required = nodeAff["requiredDuringSchedulingIgnoredDuringExecution"];
  const phase = str(status["phase"]);
  const start = typeof status["startTime"] === "string" ? Date.parse(status["startTime"]) : Number.NaN;
  return {
    key: `${namespace}/${name}`,
    uid: typeof meta.uid === "string" ? meta.uid : `${namespace}/${name}`,
    namespace,
    name,
    obj,
    labels,
    priority: typeof spec["priority"] === "number" ? spec["priority"] : 0,
    preemptionPolicy: str(spec["preemptionPolicy"]) || "PreemptLowerPriority",
    schedulerName: str(spec["schedulerName"]) || "default-scheduler",
    nodeName: str(spec["nodeName"]),
    nominatedNodeName: str(status["nominatedNodeName"]),
    terminating: meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null,
    terminal: phase === "Succeeded" || phase === "Failed",
    startTime: Number.isNaN(start) ? undefined : start,
    requests: req.requests,
    nonZeroCpu: req.nonZeroCpu,
    nonZeroMemory: req.nonZeroMemory,
    hostPorts: hostPortsOf(spec),
    tolerations: parseTolerations(spec["tolerations"]),
    requiredNodeAffinity: {
      nodeSelector: isRecord(spec["nodeSelector"]) ? stringMap(spec["nodeSelector"]) : undefined,
      affinity: isRecord(required) ? NodeSelector.parse(required) : undefined,
    },
    preferredNodeAffinity: preferredNodeTerms(nodeAff["preferredDuringSchedulingIgnoredDuringExecution"]),
    requiredAffinityTerms: affinityTerms(self, podAff["requiredDuringSchedulingIgnoredDuringExecution"], errors),
    requiredAntiAffinityTerms: affinityTerms(self, antiAff["requiredDuringSchedulingIgnoredDuringExecution"], errors),
    preferredAffinityTerms: weightedTerms(self, podAff["preferredDuringSchedulingIgnoredDuringExecution"], errors),
    preferredAntiAffinityTerms: weightedTerms(self, antiAff["preferredDuringSchedulingIgnoredDuringExecution"], errors),
    spreadConstraints: spreadConstraints(spec["topologySpreadConstraints"], labels, errors),
    gated: Array.isArray(spec["schedulingGates"]) && spec["schedulingGates"].length > 0,
    hasClaims:
      Array.isArray(spec["volumes"]) &&
      spec["volumes"].some((v) => isRecord(v) && (isRecord(v["persistentVolumeClaim"]) || isRecord(v["ephemeral"]))),
    errors,
  };
}

/** Does the pod match an affinity term (upstream AffinityTerm.Matches)? `nsLabels`: the pod's namespace labels. */
export function affinityTermMatches(
  t: AffinityTerm,
  pod: PodInfo,
  nsLabels: Readonly<Record<string, string>> | undefined,
): boolean {
  if (t.namespaces.has(pod.namespace) || t.namespaceSelector.matches(nsLabels)) return t.selector.matches(pod.labels);
  return false;
}

/** True when the pod has any pod affinity or anti-affinity (upstream NodeInfo.PodsWithAffinity). */
export function hasAffinity(p: PodInfo): boolean {
  return (
    p.requiredAffinityTerms.length > 0 ||
    p.requiredAntiAffinityTerms.length > 0 ||
    p.preferredAffinityTerms.length > 0 ||
    p.preferredAntiAffinityTerms.length > 0
  );
}

/** upstream MoreImportantPod: higher priority first, then the one that started earlier. */
export function moreImportantPod(a: PodInfo, b: PodInfo, now: number): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return (a.startTime ?? now) < (b.startTime ?? now);
}
