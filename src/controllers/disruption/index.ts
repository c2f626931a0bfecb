/**
 * Disruption controller (upstream pkg/controller/disruption): keeps every PodDisruptionBudget's
 * status, which the pods/eviction subresource (src/apiserver/eviction.ts) reads and decrements.
 * - pods: those of the PDB's namespace its selector matches (policy/v1: `{}` matches all, none
 *   without a selector);
 * - expectedPods and desiredHealthy: an integer minAvailable counts the matching pods; a percentage
 *   minAvailable or any maxUnavailable counts the replicas of the pods' controllers (a ReplicaSet's
 *   Deployment, a StatefulSet, a ReplicationController, anything with a scale subresource), rounded
 *   up as upstream; pods without a controller are warned about (UnmanagedPods);
 * - currentHealthy: matching pods that are Ready, not being deleted, and not evicted in the last
 *   2 minutes (status.disruptedPods, written by the eviction; an entry older than that is dropped
 *   with a NotDeleted event on the pod);
 * - disruptionsAllowed = currentHealthy - desiredHealthy, never below 0, and 0 while no pod is
 *   expected; the DisruptionAllowed condition (SufficientPods / InsufficientPods, SyncFailed with
 *   disruptionsAllowed 0 when the status cannot be computed);
 * - a pod's DisruptionTarget condition still True 2 minutes after it was set, on a pod not being
 *   deleted, is set back to False (the eviction did not go through).
 */

import { scaledValue } from "../../api/intstr.js";
import { allowedCondition, isPodReady, setCondition } from "../../api/pdb.js";
import { labelSelectorFromObject } from "../../api/selectors/index.js";
import { isRecord, type KObject, rfc3339 } from "../../api/types.js";
import { log } from "../../util/log.js";
import type { LocalClient } from "../client.js";
import { QueuedController } from "../controller.js";
import { recordEvent } from "../events.js";
import { type ReconcileResult, WorkQueue } from "../queue.js";

type Rec = Record<string, unknown>;

/** How long an evicted pod may take to go before the budget counts it again (upstream DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;
/** How long a pod's DisruptionTarget condition may stay True on a pod that is not deleted. */
export const STALE_DISRUPTION_MS = 2 * 60 * 1000;

function rec(v: unknown): Rec {
  return isRecord(v) ? v : {};
}

/** A pod's controller as the budget counts it: its uid and how many replicas it wants. */
export interface ControllerScale {
  uid: string;
  scale: number;
}

/** Finds the controller (and its scale) of a pod's controller reference; undefined if none is known. */
export type ScaleFinder = (ref: Rec, namespace: string) => ControllerScale | undefined;

export interface Expected {
  expectedCount: number;
  desiredHealthy: number;
  unmanagedPods: string[];
}

function controllerRefOf(pod: KObject): Rec | undefined {
  return (pod.metadata.ownerReferences ?? []).find((r) => isRecord(r) && r["controller"] === true) as Rec | undefined;
}

/** expectedPods, desiredHealthy and the pods no controller owns, as upstream's getExpectedPodCount (pure but for `find`). */
export function expectedPodCount(spec: Rec, pods: KObject[], find: ScaleFinder): Expected {
  const expectedScale = (): { count: number; unmanaged: string[] } => {
    const scales = new Map<string, number>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const ref = controllerRefOf(pod);
      if (!ref) {
        unmanaged.push(pod.metadata.name ?? "");
        continue;
      }
      if (scales.has(String(ref["uid"]))) continue;
      const found = find(ref, pod.metadata.namespace ?? "");
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
      scales.set(found.uid, found.scale);
    }
    let count = 0;
    for (const n of scales.values()) count += n;
    return { count, unmanaged };
  };
  if (spec["maxUnavailable"] !== undefined && spec["maxUnavailable"] !== null) {
    const { count, unmanaged } = expectedScale();
    const maxUnavailable = scaledValue(spec["maxUnavailable"], count, true);
    return { expectedCount: count, desiredHealthy: Math.max(0, count - maxUnavailable), unmanagedPods: unmanaged };
  }
  const min = spec["minAvailable"];
  if (typeof min === "number") return { expectedCount: pods.length, desiredHealthy: min, unmanagedPods: [] };
  if (typeof min === "string") {
    const { count, unmanaged } = expectedScale();
    return { expectedCount: count, desiredHealthy: scaledValue(min, count, true), unmanagedPods: unmanaged };
  }
  return { expectedCount: 0, desiredHealthy: 0, unmanagedPods: [] };
}

/** The disruptedPods entries still in force, the pods whose entry expired, and when to look again. */
export function disruptedPodMap(
  pods: KObject[],
  disrupted: Rec,
  now: number,
): { inForce: Record<string, string>; expired: KObject[]; recheckAt: number | undefined } {
  const inForce: Record<string, string> = {};
  const expired: KObject[] = [];
  let recheckAt: number | undefined;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = disrupted[pod.metadata.name ?? ""];
    if (typeof at !== "string") continue;
    const expectedDeletion = Date.parse(at) + DELETION_TIMEOUT_MS;
    if (Number.isNaN(expectedDeletion) || expectedDeletion < now) expired.push(pod);
    else {
      inForce[pod.metadata.name ?? ""] = at;
      if (recheckAt === undefined || expectedDeletion < recheckAt) recheckAt = expectedDeletion;
    }
  }
  return { inForce, expired, recheckAt };
}

/** Ready pods that are neither being deleted nor just evicted. */
export function countHealthy(pods: KObject[], inForce: Record<string, string>, now: number): number {
  let n = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = inForce[pod.metadata.name ?? ""];
    if (at !== undefined && Date.parse(at) + DELETION_TIMEOUT_MS > now) continue;
    if (isPodReady(pod)) n++;
  }
  return n;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface DisruptionControllerOptions {
  now?: () => number;
}

export class DisruptionController extends QueuedController {
  /** Pods whose DisruptionTarget condition may go stale. */
  private podQueue: WorkQueue;
  /** PDB keys per namespace, so a pod's change wakes only its namespace's budgets. */
  private readonly byNamespace = new Map<string, Set<string>>();
  /** Budgets that last saw no pods (NoPods is said once per transition, not at every sync). */
  private readonly empty = new Set<string>();

  constructor(client: LocalClient, opts: DisruptionControllerOptions = {}) {
    super(client, "disruption", opts.now);
    this.podQueue = new WorkQueue("disruption-stale-pods", (key) => this.reconcileStalePod(key));
  }

  private pdbs() {
    return this.client.resource("policy", "v1", "poddisruptionbudgets");
  }

  private wakeNamespace(ns: string): void {
    for (const key of this.byNamespace.get(ns) ?? []) this.queue.add(key);
  }

  override start(): void {
    this.podQueue = new WorkQueue("disruption-stale-pods", (key) => this.reconcileStalePod(key));
    super.start();
  }

  protected watchAll(): void {
    const watch = (group: string, version: string, plural: string, onChange: (o: KObject, del: boolean) => void) =>
      this.watch(this.client.resource(group, version, plural), onChange);
    watch("policy", "v1", "poddisruptionbudgets", (obj, deleted) => {
      const ns = obj.metadata.namespace ?? "";
      const key = `${ns}/${obj.metadata.name}`;
      const set = this.byNamespace.get(ns) ?? new Set<string>();
      this.byNamespace.set(ns, set);
      if (deleted) {
        set.delete(key);
        this.empty.delete(key);
      } else {
        set.add(key);
        this.queue.add(key);
      }
    });
    watch("", "v1", "pods", (obj, deleted) => {
      const ns = obj.metadata.namespace ?? "";
      this.wakeNamespace(ns);
      if (!deleted && this.disruptionTargetSince(obj) !== undefined) this.podQueue.add(`${ns}/${obj.metadata.name}`);
    });
    // the controllers whose scale a percentage budget counts
    for (const [g, v, p] of [
      ["apps", "v1", "deployments"],
      ["apps", "v1", "replicasets"],
      ["apps", "v1", "statefulsets"],
      ["", "v1", "replicationcontrollers"],
    ] as const) {
      watch(g, v, p, (obj) => this.wakeNamespace(obj.metadata.namespace ?? ""));
    }
  }

  override stop(): void {
    super.stop();
    this.podQueue.stop();
  }

  /** The scale of a pod's controller: a ReplicaSet's Deployment, else anything with a scale subresource. */
  private findScale: ScaleFinder = (ref, namespace) => {
    const apiVersion = String(ref["apiVersion"] ?? "");
    const kind = String(ref["kind"] ?? "");
    const sv = this.client.catalog.lookupKind(apiVersion, kind);
    if (!sv?.def.scale) return undefined;
    const obj = this.client.get(sv, namespace, String(ref["name"] ?? ""));
    if (!obj || obj.metadata.uid !== ref["uid"]) return undefined;
    if (sv.def.group === "apps" && kind === "ReplicaSet") {
      const owner = controllerRefOf(obj);
      if (owner && owner["kind"] === "Deployment" && String(owner["apiVersion"] ?? "").startsWith("apps/")) {
        const dep = this.findScale(owner, namespace);
        if (dep) return dep;
      }
    }
    let v: unknown = obj;
    for (const k of sv.def.scale.specReplicasPath) v = rec(v)[k];
    // replicas defaults to 1 where the API defaults it
    return { uid: obj.metadata.uid ?? "", scale: typeof v === "number" ? v : 1 };
  };

  async reconcile(key: string): Promise<ReconcileResult> {
    const [ns = "", name = ""] = key.split("/");
    const pdbs = this.pdbs();
    const pdb = this.client.get(pdbs, ns, name);
    if (!pdb) return undefined;
    const now = this.now();
    const spec = rec(pdb["spec"]);
    let pods: KObject[];
    let expected: Expected;
    try {
      const sel = spec["selector"] === undefined || spec["selector"] === null ? undefined : spec["selector"];
      const matcher = labelSelectorFromObject(sel);
      const podsSv = this.client.resource("", "v1", "pods");
      pods = (await this.client.list(podsSv, ns))
        .map((c) => c.obj)
        .filter((p) => matcher.matches(p.metadata.labels ?? {}));
      expected = expectedPodCount(spec, pods, this.findScale);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message.startsWith("found no controllers")) {
        await this.event(
          pdb,
          "Warning",
          "CalculateExpectedPodCountFailed",
          `Failed to calculate the number of expected pods: ${message}`,
        );
      }
      await this.failSafe(ns, name, message, now);
      return { requeueAfterMs: 30_000 };
    }
    if (pods.length === 0) {
      if (!this.empty.has(key)) await this.event(pdb, "Normal", "NoPods", "No matching pods found");
      this.empty.add(key);
    } else this.empty.delete(key);
    if (expected.unmanagedPods.length > 0) {
      await this.event(
        pdb,
        "Warning",
        "UnmanagedPods",
        `Pods selected by this PodDisruptionBudget (selector: ${selectorString(spec["selector"])}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
        `unmanaged:${expected.unmanagedPods.sort().join(",")}`,
      );
    }
    const status = rec(pdb["status"]);
    const { inForce, expired, recheckAt } = disruptedPodMap(pods, rec(status["disruptedPods"]), now);
    for (const pod of expired) {
      await this.event(
        pod,
        "Warning",
        "NotDeleted",
        `Pod was expected by PDB ${ns}/${name} to be deleted but it wasn't`,
        `notdeleted:${pod.metadata.uid}`,
      );
    }
    const currentHealthy = countHealthy(pods, inForce, now);
    const raw = currentHealthy - expected.desiredHealthy;
    const allowed = expected.expectedCount <= 0 || raw <= 0 ? 0 : raw;
    const generation = pdb.metadata.generation ?? 1;
    const next: Rec = {
      ...(Object.keys(inForce).length > 0 ? { disruptedPods: inForce } : {}),
      disruptionsAllowed: allowed,
      currentHealthy,
      desiredHealthy: expected.desiredHealthy,
      expectedPods: expected.expectedCount,
      observedGeneration: generation,
    };
    const conditions = Array.isArray(status["conditions"]) ? status["conditions"].filter(isRecord) : [];
    const wanted = allowedCondition(allowed, generation);
    const cur = conditions.find((c) => c["type"] === "DisruptionAllowed");
    const upToDate =
      cur !== undefined &&
      cur["status"] === wanted["status"] &&
      cur["reason"] === wanted["reason"] &&
      cur["observedGeneration"] === generation;
    const same =
      upToDate &&
      status["currentHealthy"] === currentHealthy &&
      status["desiredHealthy"] === expected.desiredHealthy &&
      status["expectedPods"] === expected.expectedCount &&
      status["disruptionsAllowed"] === allowed &&
      status["observedGeneration"] === generation &&
      sameJson(rec(status["disruptedPods"]), inForce);
    if (!same) {
      await this.client.update(pdbs, ns, name, "status", (o) => {
        const s = rec(o["status"]);
        const conds = Array.isArray(s["conditions"]) ? s["conditions"].filter(isRecord) : [];
        o["status"] = { ...next, conditions: setCondition(conds, wanted, this.now()) };
        return o;
      });
    }
    return recheckAt !== undefined ? { requeueAfterMs: Math.max(0, recheckAt - now) + 100 } : undefined;
  }

  /** On a sync error: no disruption allowed, and the condition says why (upstream failSafe). */
  private async failSafe(ns: string, name: string, message: string, now: number): Promise<void> {
    await this.client.update(this.pdbs(), ns, name, "status", (o) => {
      const s = rec(o["status"]);
      const conds = Array.isArray(s["conditions"]) ? s["conditions"].filter(isRecord) : [];
      const observedGeneration = typeof s["observedGeneration"] === "number" ? s["observedGeneration"] : 0;
      o["status"] = {
        ...s,
        disruptionsAllowed: 0,
        conditions: setCondition(
          conds,
          { type: "DisruptionAllowed", status: "False", reason: "SyncFailed", message, observedGeneration },
          now,
        ),
      };
      return o;
    });
  }

  /** When a pod's DisruptionTarget condition became True, or undefined when it is not True (or the pod is going). */
  private disruptionTargetSince(pod: KObject): number | undefined {
    if (pod.metadata.deletionTimestamp) return undefined;
    const conds = rec(pod["status"])["conditions"];
    if (!Array.isArray(conds)) return undefined;
    const c = conds.find((x) => isRecord(x) && x["type"] === "DisruptionTarget" && x["status"] === "True");
    if (!isRecord(c)) return undefined;
    const t = typeof c["lastTransitionTime"] === "string" ? Date.parse(c["lastTransitionTime"]) : Number.NaN;
    return Number.isNaN(t) ? this.now() : t;
  }

  private async reconcileStalePod(key: string): Promise<ReconcileResult> {
    const [ns = "", name = ""] = key.split("/");
    const pods = this.client.resource("", "v1", "pods");
    const pod = this.client.get(pods, ns, name);
    if (!pod) return undefined;
    const since = this.disruptionTargetSince(pod);
    if (since === undefined) return undefined;
    const left = since + STALE_DISRUPTION_MS - this.now();
    if (left > 0) return { requeueAfterMs: left + 100 };
    await this.client.update(pods, ns, name, "status", (o) => {
      const s = rec(o["status"]);
      const conds = Array.isArray(s["conditions"]) ? s["conditions"].filter(isRecord) : [];
      s["conditions"] = conds.map((c) =>
        c["type"] === "DisruptionTarget" && c["status"] === "True"
          ? { ...c, status: "False", lastTransitionTime: rfc3339(this.now()) }
          : c,
      );
      o["status"] = s;
      return o;
    });
    log.info("disruption: a pod's DisruptionTarget condition went stale (it was not deleted)", { pod: key });
    return undefined;
  }

  /** Records an event; `once` keys an event said only once per controller run. */
  private readonly said = new Set<string>();
  private async event(obj: KObject, type: string, reason: string, message: string, once?: string): Promise<void> {
    if (once) {
      const k = `${obj.metadata.namespace}/${obj.metadata.name}/${reason}/${once}`;
      if (this.said.has(k)) return;
      this.said.add(k);
    }
    await recordEvent(this.client, obj, "controllermanager", type, reason, message, this.now());
  }
}

/** A *metav1.LabelSelector as Go's %v prints it (its generated String()). */
export function selectorString(sel: unknown): string {
  const s = rec(sel);
  const ml = rec(s["matchLabels"]);
  const labels = Object.keys(ml)
    .sort()
    .map((k) => `${k}: ${String(ml[k])},`)
    .join("");
  const me = Array.isArray(s["matchExpressions"]) ? s["matchExpressions"] : [];
  const exprs = me
    .filter(isRecord)
    .map(
      (e) =>
        `LabelSelectorRequirement{Key:${String(e["key"])},Operator:${String(e["operator"])},Values:[${(Array.isArray(e["values"]) ? e["values"] : []).join(" ")}],},`,
    )
    .join("");
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`;
}
