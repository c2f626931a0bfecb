/**
 * ReplicaSet and ReplicationController controller (upstream pkg/controller/replicaset, which runs
 * both): keeps `spec.replicas` active pods per set.
 * - claims pods as upstream's ControllerRefManager: a pod this set controls whose labels no longer
 *   match is released (its ownerReference removed); a matching pod without a controller is adopted
 *   (unless it or the set is being deleted);
 * - creates missing pods from the template in slow-start batches (1, 2, 4, ... at most 500 per
 *   sync), named `<set>-<random>`, with SuccessfulCreate / FailedCreate events and the ReplicaFailure
 *   condition when a create is refused (e.g. by a quota);
 * - deletes surplus pods, worst first by upstream's ranking (unscheduled, pending, not ready,
 *   lower pod-deletion-cost, more pods of the set on the same node, ready for less time, more
 *   restarts, newer), with SuccessfulDelete events;
 * - status: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (ready for
 *   minReadySeconds; the set is looked at again when a pod will become available), observedGeneration.
 * Active pods are those neither Succeeded, Failed nor being deleted.
 */

import { isPodReady } from "../../api/pdb.js";
import { labelSelectorFromObject, selectorFromSet } from "../../api/selectors/index.js";
import { isRecord, type KObject, rfc3339 } from "../../api/types.js";
import type { ServedVersion } from "../../apiserver/catalog.js";
import { ApiError } from "../../apiserver/errors.js";
import type { LocalClient } from "../client.js";
import { QueuedController } from "../controller.js";
import { createPods, deletePods, type PodOwner } from "../podcontrol.js";
import type { ReconcileResult } from "../queue.js";
import { claim, controllerRef } from "../refmanager.js";

type Rec = Record<string, unknown>;

/** At most this many creates or deletes per sync (upstream BurstReplicas). */
export const BURST_REPLICAS = 500;
const DELETION_COST = "controller.kubernetes.io/pod-deletion-cost";

function rec(v: unknown): Rec {
  return isRecord(v) ? v : {};
}

function condition(pod: KObject, type: string): Rec | undefined {
  const conds = rec(pod["status"])["conditions"];
  return Array.isArray(conds) ? (conds.find((c) => isRecord(c) && c["type"] === type) as Rec | undefined) : undefined;
}

/** Ready for at least minReadySeconds at `now`. */
export function isAvailable(pod: KObject, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const t = Date.parse(String(condition(pod, "Ready")?.["lastTransitionTime"] ?? ""));
  return !Number.isNaN(t) && t + minReadySeconds * 1000 <= now;
}

export function isActive(pod: KObject): boolean {
  const phase = rec(pod["status"])["phase"];
  return phase !== "Succeeded" && phase !== "Failed" && !pod.metadata.deletionTimestamp;
}

function restarts(pod: KObject): number {
  const cs = rec(pod["status"])["containerStatuses"];
  let n = 0;
  if (Array.isArray(cs)) for (const c of cs) n += Number(rec(c)["restartCount"] ?? 0) || 0;
  return n;
}

function deletionCost(pod: KObject): number {
  const v = pod.metadata.annotations?.[DELETION_COST];
  const n = v === undefined ? 0 : Number(v);
  return Number.isInteger(n) ? n : 0;
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Sorts pods to delete first at the front, as upstream's ActivePodsWithRanks: `related` are the pods
 * whose placement counts (the set's own active pods): a pod sharing its node with more of them goes
 * first.
 */
export function rankForDeletion(pods: KObject[], related: KObject[], now: number): KObject[] {
  const onNode = new Map<string, number>();
  for (const p of related) {
    const n = String(rec(p["spec"])["nodeName"] ?? "");
    if (n) onNode.set(n, (onNode.get(n) ?? 0) + 1);
  }
  const readySince = (p: KObject) => Date.parse(String(condition(p, "Ready")?.["lastTransitionTime"] ?? "")) || now;
  const key = (p: KObject) => {
    const node = String(rec(p["spec"])["nodeName"] ?? "");
    return {
      assigned: node === "" ? 0 : 1,
      phase: PHASE_RANK[String(rec(p["status"])["phase"] ?? "Pending")] ?? 0,
      ready: isPodReady(p) ? 1 : 0,
      cost: deletionCost(p),
      colocated: node === "" ? 0 : (onNode.get(node) ?? 0),
      since: readySince(p),
      restarts: restarts(p),
      created: Date.parse(p.metadata.creationTimestamp ?? "") || 0,
    };
  };
  return [...pods]
    .map((p) => ({ p, k: key(p) }))
    .sort((a, b) => {
      const x = a.k;
      const y = b.k;
      if (x.assigned !== y.assigned) return x.assigned - y.assigned;
      if (x.phase !== y.phase) return x.phase - y.phase;
      if (x.ready !== y.ready) return x.ready - y.ready;
      if (x.cost !== y.cost) return x.cost - y.cost;
      if (x.colocated !== y.colocated) return y.colocated - x.colocated;
      if (x.ready === 1 && y.ready === 1 && x.since !== y.since) return y.since - x.since;
      if (x.restarts !== y.restarts) return y.restarts - x.restarts;
      return y.created - x.created;
    })
    .map((e) => e.p);
}

/** The pod a set's template makes (upstream GetPodFromTemplate). */
export function podFromTemplate(set: KObject, kind: string, apiVersion: string): KObject {
  const template = rec(rec(set["spec"])["template"]);
  const meta = rec(template["metadata"]);
  const labels = isRecord(meta["labels"]) ? (meta["labels"] as Record<string, string>) : {};
  const annotations = isRecord(meta["annotations"]) ? (meta["annotations"] as Record<string, string>) : undefined;
  const finalizers = Array.isArray(meta["finalizers"]) ? (meta["finalizers"] as string[]) : undefined;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: `${set.metadata.name}-`,
      namespace: set.metadata.namespace,
      labels: { ...labels },
      ...(annotations ? { annotations: { ...annotations } } : {}),
      ...(finalizers ? { finalizers: [...finalizers] } : {}),
      ownerReferences: [controllerRef(set, apiVersion, kind)],
    },
    spec: structuredClone(rec(template["spec"])),
  };
}

interface Kind {
  kind: "ReplicaSet" | "ReplicationController";
  apiVersion: string;
  sv: () => ServedVersion;
  /** The set's selector as a matcher (RC: a plain map, defaulted to the template labels). */
  selector: (set: KObject) => { matches(labels: Record<string, string>): boolean; empty: boolean };
}

export interface ReplicaSetControllerOptions {
  now?: () => number;
}

export class ReplicaSetController extends QueuedController {
  private readonly kinds: Kind[];
  /** Keys (`<kind>/<ns>/<name>`) of every set. */
  private readonly sets = new Set<string>();

  constructor(client: LocalClient, opts: ReplicaSetControllerOptions = {}) {
    super(client, "replicaset", opts.now);
    this.kinds = [
      {
        kind: "ReplicaSet",
        apiVersion: "apps/v1",
        sv: () => client.resource("apps", "v1", "replicasets"),
        selector: (set) => {
          const sel = rec(set["spec"])["selector"];
          const s = labelSelectorFromObject(sel);
          const r = rec(sel);
          const empty =
            Object.keys(rec(r["matchLabels"])).length === 0 &&
            (!Array.isArray(r["matchExpressions"]) || r["matchExpressions"].length === 0);
          return { matches: (l) => s.matches(l), empty };
        },
      },
      {
        kind: "ReplicationController",
        apiVersion: "v1",
        sv: () => client.resource("", "v1", "replicationcontrollers"),
        selector: (set) => {
          const sel = rec(rec(set["spec"])["selector"]) as Record<string, string>;
          const s = selectorFromSet(sel);
          return { matches: (l) => s.matches(l), empty: Object.keys(sel).length === 0 };
        },
      },
    ];
  }

  private kindOf(name: string): Kind {
    return this.kinds.find((k) => k.kind === name)!;
  }

  protected watchAll(): void {
    for (const k of this.kinds) {
      this.watch(k.sv(), (obj, deleted) => {
        const key = `${k.kind}/${obj.metadata.namespace}/${obj.metadata.name}`;
        if (deleted) this.sets.delete(key);
        else this.sets.add(key);
        this.queue.add(key);
      });
    }
    // an orphan may be adopted by a matching set of its namespace
    this.watchDependents(
      this.client.resource("", "v1", "pods"),
      ["ReplicaSet", "ReplicationController"],
      (pod) => this.matching(pod),
      (kind, ns, name) => `${kind}/${ns}/${name}`,
    );
  }

  override stop(): void {
    super.stop();
    this.sets.clear();
  }

  /** Keys of the sets of the pod's namespace whose selector takes it. */
  private matching(pod: KObject): string[] {
    const labels = pod.metadata.labels ?? {};
    const out: string[] = [];
    for (const key of this.sets) {
      const [kind = "", ns = "", name = ""] = key.split("/");
      if (ns !== pod.metadata.namespace) continue;
      const k = this.kindOf(kind);
      const set = this.client.get(k.sv(), ns, name);
      if (!set) continue;
      const sel = k.selector(set);
      if (!sel.empty && sel.matches(labels)) out.push(key);
    }
    return out;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [kindName = "", ns = "", name = ""] = key.split("/");
    const k = this.kindOf(kindName);
    const podsSv = this.client.resource("", "v1", "pods");
    // a consistent read first: the cache then holds this controller's own last creates and deletes
    const all = (await this.client.listFresh(podsSv, ns)).map((c) => c.obj);
    const set = this.client.get(k.sv(), ns, name);
    if (!set) return undefined;
    const sel = k.selector(set);
    const owned = await claim(
      {
        client: this.client,
        sv: podsSv,
        owner: set,
        apiVersion: k.apiVersion,
        kind: k.kind,
        matches: (l) => !sel.empty && sel.matches(l),
      },
      all,
    );
    const active = owned.filter(isActive);
    const spec = rec(set["spec"]);
    const replicas = typeof spec["replicas"] === "number" ? spec["replicas"] : 1;
    let failure: string | undefined;
    // the status counts what runs after the creates and deletes below
    let current = active;
    if (!set.metadata.deletionTimestamp) {
      const diff = active.length - replicas;
      if (diff < 0) {
        const made = await this.createPods(k, set, Math.min(-diff, BURST_REPLICAS));
        failure = made.failure;
        current = [...active, ...made.created];
      } else if (diff > 0) {
        const gone = new Set(
          (await this.deletePods(set, active, Math.min(diff, BURST_REPLICAS))).map((p) => p.metadata.uid),
        );
        current = active.filter((p) => !gone.has(p.metadata.uid));
      }
    }
    return this.writeStatus(k, set, current, failure, this.now());
  }

  private podOwner(set: KObject): PodOwner {
    // upstream's names for the two controllers the events come from
    const component = set.kind === "ReplicationController" ? "replication-controller" : "replicaset-controller";
    return { client: this.client, owner: set, component, now: this.now };
  }

  private createPods(k: Kind, set: KObject, n: number): Promise<{ created: KObject[]; failure?: string }> {
    const pods = Array.from({ length: n }, () => podFromTemplate(set, k.kind, k.apiVersion));
    return createPods(this.podOwner(set), pods);
  }

  /** Deletes the `n` pods ranked first for deletion; returns them. */
  private async deletePods(set: KObject, active: KObject[], n: number): Promise<KObject[]> {
    const victims = rankForDeletion(active, active, this.now()).slice(0, n);
    await deletePods(this.podOwner(set), victims);
    return victims;
  }

  private async writeStatus(
    k: Kind,
    set: KObject,
    pods: KObject[],
    failure: string | undefined,
    now: number,
  ): Promise<ReconcileResult> {
    const spec = rec(set["spec"]);
    const minReady = typeof spec["minReadySeconds"] === "number" ? spec["minReadySeconds"] : 0;
    const templateLabels = rec(rec(rec(spec["template"])["metadata"])["labels"]) as Record<string, string>;
    const fully = pods.filter((p) =>
      Object.entries(templateLabels).every(([key, v]) => p.metadata.labels?.[key] === v),
    ).length;
    const ready = pods.filter(isPodReady).length;
    const available = pods.filter((p) => isAvailable(p, minReady, now)).length;
    // when will a ready pod become available?
    let recheck: number | undefined;
    if (minReady > 0) {
      for (const p of pods) {
        if (!isPodReady(p) || isAvailable(p, minReady, now)) continue;
        const t = Date.parse(String(condition(p, "Ready")?.["lastTransitionTime"] ?? "")) + minReady * 1000 - now;
        if (!Number.isNaN(t) && (recheck === undefined || t < recheck)) recheck = t;
      }
    }
    const status = rec(set["status"]);
    const conditions = (Array.isArray(status["conditions"]) ? status["conditions"].filter(isRecord) : []).filter(
      (c) => c["type"] !== "ReplicaFailure" || failure !== undefined,
    );
    if (failure !== undefined) {
      const prev = conditions.find((c) => c["type"] === "ReplicaFailure");
      const cond = {
        type: "ReplicaFailure",
        status: "True",
        lastTransitionTime: prev?.["lastTransitionTime"] ?? rfc3339(now),
        reason: "FailedCreate",
        message: failure,
      };
      const i = conditions.indexOf(prev as Rec);
      if (i >= 0) conditions[i] = cond;
      else conditions.push(cond);
    }
    const next: Rec = {
      replicas: pods.length,
      ...(fully > 0 ? { fullyLabeledReplicas: fully } : {}),
      ...(ready > 0 ? { readyReplicas: ready } : {}),
      ...(available > 0 ? { availableReplicas: available } : {}),
      observedGeneration: set.metadata.generation ?? 1,
      ...(conditions.length > 0 ? { conditions } : {}),
    };
    if (JSON.stringify(next) !== JSON.stringify(status)) {
      await this.client
        .update(k.sv(), set.metadata.namespace, set.metadata.name ?? "", "status", (o) => {
          o["status"] = next;
          return o;
        })
        .catch((err: unknown) => {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        });
    }
    if (failure !== undefined) return { requeueAfterMs: 5000 };
    return recheck !== undefined ? { requeueAfterMs: recheck + 50 } : undefined;
  }
}
