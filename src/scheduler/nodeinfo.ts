/**
 * A node with the pods on it (upstream framework.NodeInfo): allocatable, the sums of requests
 * (exact, and with the scoring defaults for containers that request nothing), host ports in use,
 * and the pods with (anti-)affinity, kept up to date as pods come and go.
 */
import { isRecord, type KObject } from "../api/types.js";
import { hasAffinity, type PodInfo } from "./podinfo.js";
import { parseResourceList, toResources } from "./resources.js";
import { parseTaints, type Taint } from "./taints.js";
import { cloneResources, emptyResources, type Resources } from "./types.js";

let generations = 0;

/** Host ports in use: "<protocol>/<port>" → host IP → how many pods hold it. */
export type UsedPorts = Map<string, Map<string, number>>;

export interface NodeFacts {
  name: string;
  labels: Readonly<Record<string, string>>;
  taints: Taint[];
  unschedulable: boolean;
  allocatable: Resources;
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

/** What the scheduler reads from a Node object; unparsable quantities count as zero. */
export function nodeFactsOf(node: KObject): NodeFacts {
  const spec = isRecord(node["spec"]) ? node["spec"] : {};
  const status = isRecord(node["status"]) ? node["status"] : {};
  return {
    name: node.metadata?.name ?? "",
    labels: stringMap(node.metadata?.labels),
    taints: parseTaints(spec["taints"]),
    unschedulable: spec["unschedulable"] === true,
    allocatable: toResources(parseResourceList(status["allocatable"]).values),
  };
}

function addResources(into: Resources, r: Resources, sign: 1 | -1): void {
  into.milliCpu += sign * r.milliCpu;
  into.memory += sign * r.memory;
  into.ephemeralStorage += sign * r.ephemeralStorage;
  if (r.scalar) {
    into.scalar ??= new Map();
    for (const [k, v] of r.scalar) into.scalar.set(k, (into.scalar.get(k) ?? 0) + sign * v);
  }
}

export class NodeInfo {
  readonly name: string;
  /** The Node object; undefined while only pods bound to it are known. */
  node: KObject | undefined;
  labels: Readonly<Record<string, string>> = Object.create(null);
  taints: Taint[] = [];
  unschedulable = false;
  allocatable: Resources = emptyResources();
  requested: Resources = emptyResources();
  nonZeroCpu = 0;
  nonZeroMemory = 0;
  pods: PodInfo[] = [];
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  usedPorts: UsedPorts = new Map();
  /** Bumped on every change. */
  generation = ++generations;
  /** This node's slot in the cache's NodeTable; -1 for copies (preemption, nominated pods). */
  slot = -1;

  constructor(name: string) {
    this.name = name;
  }

  setNode(node: KObject, facts: NodeFacts = nodeFactsOf(node)): void {
    this.node = node;
    this.labels = facts.labels;
    this.taints = facts.taints;
    this.unschedulable = facts.unschedulable;
    this.allocatable = facts.allocatable;
    this.generation = ++generations;
  }

  addPod(p: PodInfo): void {
    this.pods.push(p);
    if (hasAffinity(p)) this.podsWithAffinity.push(p);
    if (p.requiredAntiAffinityTerms.length > 0) this.podsWithRequiredAntiAffinity.push(p);
    addResources(this.requested, p.requests, 1);
    this.nonZeroCpu += p.nonZeroCpu;
    this.nonZeroMemory += p.nonZeroMemory;
    for (const hp of p.hostPorts) {
      const pp = `${hp.protocol}/${hp.port}`;
      let ips = this.usedPorts.get(pp);
      if (!ips) {
        ips = new Map();
        this.usedPorts.set(pp, ips);
      }
      ips.set(hp.ip, (ips.get(hp.ip) ?? 0) + 1);
    }
    this.generation = ++generations;
  }

  /** Removes the pod with this uid; false when it is not here. */
  removePod(uid: string): boolean {
    const i = this.pods.findIndex((x) => x.uid === uid);
    if (i < 0) return false;
    const p = this.pods[i] as PodInfo;
    this.pods.splice(i, 1);
    const a = this.podsWithAffinity.findIndex((x) => x.uid === uid);
    if (a >= 0) this.podsWithAffinity.splice(a, 1);
    const r = this.podsWithRequiredAntiAffinity.findIndex((x) => x.uid === uid);
    if (r >= 0) this.podsWithRequiredAntiAffinity.splice(r, 1);
    addResources(this.requested, p.requests, -1);
    this.nonZeroCpu -= p.nonZeroCpu;
    this.nonZeroMemory -= p.nonZeroMemory;
    for (const hp of p.hostPorts) {
      const pp = `${hp.protocol}/${hp.port}`;
      const ips = this.usedPorts.get(pp);
      const n = ips?.get(hp.ip);
      if (!ips || n === undefined) continue;
      if (n <= 1) ips.delete(hp.ip);
      else ips.set(hp.ip, n - 1);
      if (ips.size === 0) this.usedPorts.delete(pp);
    }
    this.generation = ++generations;
    return true;
  }

  hasPod(uid: string): boolean {
    return this.pods.some((x) => x.uid === uid);
  }

  /** A copy that can be changed without touching this one (preemption dry runs, nominated pods). */
  clone(): NodeInfo {
    const c = new NodeInfo(this.name);
    c.node = this.node;
    c.labels = this.labels;
    c.taints = this.taints;
    c.unschedulable = this.unschedulable;
    c.allocatable = this.allocatable;
    c.requested = cloneResources(this.requested);
    c.nonZeroCpu = this.nonZeroCpu;
    c.nonZeroMemory = this.nonZeroMemory;
    c.pods = [...this.pods];
    c.podsWithAffinity = [...this.podsWithAffinity];
    c.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    c.usedPorts = new Map([...this.usedPorts].map(([k, v]) => [k, new Map(v)]));
    c.generation = this.generation;
    return c;
  }
}

/** upstream HostPortInfo.CheckConflict: 0.0.0.0 conflicts with every IP on the same protocol/port. */
export function portConflicts(used: UsedPorts, ip: string, protocol: string, port: number): boolean {
  if (port <= 0) return false;
  const ips = used.get(`${protocol}/${port}`);
  if (!ips || ips.size === 0) return false;
  if (ip === "0.0.0.0") return true;
  return ips.has("0.0.0.0") || ips.has(ip);
}
