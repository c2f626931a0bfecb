/**
 * The scheduler cache (upstream internal/cache): node infos built from the Node and bound-Pod
 * informers, plus "assumed" pods — placed by a scheduling decision whose binding has not been seen
 * yet — so back-to-back decisions never double-book a node. The binding informer event confirms an
 * assumed pod; a failed binding forgets it; with a TTL, a bound-but-never-confirmed pod expires.
 * Nodes are listed zone by zone, round robin (upstream nodeTree), for the sampling walk.
 */
import type { KObject } from "../api/types.js";
import { type NodeFacts, NodeInfo, nodeFactsOf } from "./nodeinfo.js";
import { NodeTable } from "./nodetable.js";
import { hasAffinity, type PodInfo } from "./podinfo.js";

interface PodState {
  pod: PodInfo;
  assumed: boolean;
  bindingFinished: boolean;
  /** ms; set when the binding finished and assumed pods expire. */
  deadline: number | undefined;
}

const ZONE = "topology.kubernetes.io/zone";
const REGION = "topology.kubernetes.io/region";
const ZONE_BETA = "failure-domain.beta.kubernetes.io/zone";
const REGION_BETA = "failure-domain.beta.kubernetes.io/region";

/** upstream utilnode.GetZoneKey: region and zone joined, "" when the node has neither. */
export function zoneKeyOf(labels: Readonly<Record<string, string>>): string {
  const region = labels[REGION] ?? labels[REGION_BETA] ?? "";
  const zone = labels[ZONE] ?? labels[ZONE_BETA] ?? "";
  return region === "" && zone === "" ? "" : `${region}:\u0000:${zone}`;
}

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly pods = new Map<string, PodState>();
  /** Zone key → node names in insertion order; zones in insertion order. */
  private readonly tree = new Map<string, string[]>();
  private readonly zoneOf = new Map<string, string>();
  private listed: NodeInfo[] | undefined;
  private listedSlots: Int32Array = new Int32Array(0);
  /** The hot numbers of every node info, for the filters' and scores' fast paths. */
  readonly table = new NodeTable();
  /** Assumed pods expire this long after their binding finished (0: never, as upstream's default). */
  private readonly assumedTtlMs: number;

  constructor(opts: { assumedTtlMs?: number } = {}) {
    this.assumedTtlMs = opts.assumedTtlMs ?? 0;
  }

  // --- nodes ---

  /** Adds or updates a node; returns the facts it had before (undefined when new). */
  setNode(node: KObject): NodeFacts | undefined {
    const name = node.metadata?.name ?? "";
    const facts = nodeFactsOf(node);
    let info = this.nodes.get(name);
    let before: NodeFacts | undefined;
    if (!info) {
      info = this.newInfo(name);
    } else if (info.node) {
      before = {
        name,
        labels: info.labels,
        taints: info.taints,
        unschedulable: info.unschedulable,
        allocatable: info.allocatable,
      };
    }
    info.setNode(node, facts);
    this.table.sync(info);
    const zone = zoneKeyOf(facts.labels);
    const was = this.zoneOf.get(name);
    if (was !== zone) {
      if (was !== undefined) this.removeFromTree(name, was);
      this.zoneOf.set(name, zone);
      let names = this.tree.get(zone);
      if (!names) {
        names = [];
        this.tree.set(zone, names);
      }
      names.push(name);
      this.listed = undefined;
    }
    return before;
  }

  removeNode(name: string): NodeInfo | undefined {
    const info = this.nodes.get(name);
    if (!info) return undefined;
    const zone = this.zoneOf.get(name);
    if (zone !== undefined) this.removeFromTree(name, zone);
    this.zoneOf.delete(name);
    this.listed = undefined;
    // pods still bound to it keep an "imaginary" node info until they go, as upstream does
    if (info.pods.length === 0) this.dropInfo(info);
    else info.node = undefined;
    return info;
  }

  private newInfo(name: string): NodeInfo {
    const info = new NodeInfo(name);
    info.slot = this.table.alloc();
    this.nodes.set(name, info);
    return info;
  }

  private dropInfo(info: NodeInfo): void {
    this.nodes.delete(info.name);
    this.table.release(info.slot);
    info.slot = -1;
  }

  private removeFromTree(name: string, zone: string): void {
    const names = this.tree.get(zone);
    if (!names) return;
    const i = names.indexOf(name);
    if (i >= 0) names.splice(i, 1);
    if (names.length === 0) this.tree.delete(zone);
  }

  /** Node infos of every known Node, zone by zone round robin (the order the sampling walk uses). */
  list(): NodeInfo[] {
    if (this.listed) return this.listed;
    const out: NodeInfo[] = [];
    const zones = [...this.tree.values()];
    for (let i = 0; ; i++) {
      let any = false;
      for (const names of zones) {
        const name = names[i];
        if (name === undefined) continue;
        any = true;
        const info = this.nodes.get(name);
        if (info?.node) out.push(info);
      }
      if (!any) break;
    }
    this.listed = out;
    this.listedSlots = Int32Array.from(out, (n) => n.slot);
    return out;
  }

  /** The table slots of list(), in the same order. */
  listSlots(): Int32Array {
    this.list();
    return this.listedSlots;
  }

  get(name: string): NodeInfo | undefined {
    const info = this.nodes.get(name);
    return info?.node ? info : undefined;
  }

  get numNodes(): number {
    return this.list().length;
  }

  // --- pods ---

  /** How many placed pods have any (anti-)affinity / required anti-affinity: lets most cycles skip a node walk. */
  private affinityPods = 0;
  private antiAffinityPods = 0;

  private count(p: PodInfo, sign: 1 | -1): void {
    if (hasAffinity(p)) this.affinityPods += sign;
    if (p.requiredAntiAffinityTerms.length > 0) this.antiAffinityPods += sign;
  }

  private place(p: PodInfo): void {
    this.count(p, 1);
    const info = this.nodes.get(p.nodeName) ?? this.newInfo(p.nodeName);
    info.addPod(p);
    this.table.sync(info);
  }

  private unplace(p: PodInfo): void {
    const info = this.nodes.get(p.nodeName);
    if (!info) return;
    if (info.removePod(p.uid)) this.count(p, -1);
    this.table.sync(info);
    if (!info.node && info.pods.length === 0) this.dropInfo(info);
  }

  /** A scheduling decision: the pod (with nodeName set) counts on its node from now on. */
  assumePod(p: PodInfo): void {
    const cur = this.pods.get(p.uid);
    if (cur) this.unplace(cur.pod);
    this.pods.set(p.uid, { pod: p, assumed: true, bindingFinished: false, deadline: undefined });
    this.place(p);
  }

  finishBinding(uid: string, now: number): void {
    const s = this.pods.get(uid);
    if (!s?.assumed) return;
    s.bindingFinished = true;
    if (this.assumedTtlMs > 0) s.deadline = now + this.assumedTtlMs;
  }

  /** The binding failed: the assumed pod no longer counts. */
  forgetPod(uid: string): void {
    const s = this.pods.get(uid);
    if (!s?.assumed) return;
    this.unplace(s.pod);
    this.pods.delete(uid);
  }

  isAssumed(uid: string): boolean {
    return this.pods.get(uid)?.assumed === true;
  }

  /** A bound pod seen by the informer (confirms an assumed one, or moves it if bound elsewhere). */
  addPod(p: PodInfo): void {
    const cur = this.pods.get(p.uid);
    if (cur) this.unplace(cur.pod);
    if (p.terminal) {
      this.pods.delete(p.uid);
      return;
    }
    this.pods.set(p.uid, { pod: p, assumed: false, bindingFinished: false, deadline: undefined });
    this.place(p);
  }

  removePod(uid: string): PodInfo | undefined {
    const cur = this.pods.get(uid);
    if (!cur) return undefined;
    this.unplace(cur.pod);
    this.pods.delete(uid);
    return cur.pod;
  }

  podOf(uid: string): PodInfo | undefined {
    return this.pods.get(uid)?.pod;
  }

  /** Drops assumed pods whose binding finished longer than the TTL ago; returns them. */
  cleanupAssumed(now: number): PodInfo[] {
    const out: PodInfo[] = [];
    for (const [uid, s] of this.pods) {
      if (s.assumed && s.bindingFinished && s.deadline !== undefined && s.deadline < now) {
        this.unplace(s.pod);
        this.pods.delete(uid);
        out.push(s.pod);
      }
    }
    return out;
  }

  /** Nodes hosting pods with any (anti-)affinity, and with required anti-affinity. */
  nodesWithAffinityPods(): NodeInfo[] {
    if (this.affinityPods === 0) return [];
    return this.list().filter((n) => n.podsWithAffinity.length > 0);
  }

  nodesWithRequiredAntiAffinityPods(): NodeInfo[] {
    if (this.antiAffinityPods === 0) return [];
    return this.list().filter((n) => n.podsWithRequiredAntiAffinity.length > 0);
  }
}
