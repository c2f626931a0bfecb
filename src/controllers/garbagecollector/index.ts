/**
 * Garbage collector (upstream pkg/controller/garbagecollector): the ownerReferences graph of every
 * served resource (events excepted, as upstream), kept from informers, and three jobs:
 * - background: a dependent all of whose owners are gone (not found, or found with another uid) is
 *   deleted; one that still has a live owner only loses its dangling references;
 * - foreground: an owner deleted with propagationPolicy=Foreground (finalizer `foregroundDeletion`)
 *   has its dependents deleted (foreground again where they have dependents of their own) and loses
 *   the finalizer once no dependent with blockOwnerDeletion is left, so it goes last;
 * - orphan: an owner deleted with propagationPolicy=Orphan (finalizer `orphan`; the default of the
 *   removed extensions/apps v1beta versions) has its references removed from its dependents, then
 *   loses the finalizer.
 * Custom resources join the graph when their CRD is served (the catalog is looked at every 10 s).
 * Every delete carries a uid precondition, so an object recreated under the same name is never hit.
 */
import { isRecord, type KObject, type OwnerReference } from "../../api/types.js";
import type { ServedVersion } from "../../apiserver/catalog.js";
import { ApiError } from "../../apiserver/errors.js";
import { log } from "../../util/log.js";
import type { LocalClient } from "../client.js";
import { QueuedController } from "../controller.js";
import type { ReconcileResult } from "../queue.js";

const FOREGROUND = "foregroundDeletion";
const ORPHAN = "orphan";
const IGNORED = new Set(["/registry/core/events/", "/registry/events.k8s.io/events/"]);

interface GraphNode {
  sv: ServedVersion;
  namespace: string | undefined;
  name: string;
  owners: OwnerReference[];
}

/** How one owner reference stands (upstream's solid / dangling / waitingForDependentsDeletion). */
export type OwnerState = "solid" | "dangling" | "waiting" | "unknown";

/** What to do with a dependent given its owners' states (upstream attemptToDeleteItem), pure. */
export function decide(
  states: OwnerState[],
  hasDependents: boolean,
): { action: "keep" } | { action: "unlink" } | { action: "delete"; policy: "Background" | "Foreground" } {
  if (states.length === 0 || states.includes("unknown")) return { action: "keep" };
  if (states.includes("solid")) return states.every((s) => s === "solid") ? { action: "keep" } : { action: "unlink" };
  if (states.includes("waiting") && hasDependents) return { action: "delete", policy: "Foreground" };
  return { action: "delete", policy: "Background" };
}

export class GarbageCollector extends QueuedController {
  private readonly watched = new Set<string>();
  /** uid → where the object is and whom it names as owners */
  private readonly nodes = new Map<string, GraphNode>();
  /** owner uid → uids of the objects naming it */
  private readonly dependents = new Map<string, Set<string>>();
  private rescan: NodeJS.Timeout | undefined;

  constructor(client: LocalClient) {
    super(client, "garbagecollector");
  }

  protected watchAll(): void {
    this.watchNewResources();
    this.rescan = setInterval(() => this.watchNewResources(), 10_000);
    this.rescan.unref();
  }

  override stop(): void {
    if (this.rescan) clearInterval(this.rescan);
    super.stop();
    this.watched.clear();
    this.nodes.clear();
    this.dependents.clear();
  }

  /** Starts an informer for every served resource not watched yet (one per key space). */
  private watchNewResources(): void {
    for (const sv of this.client.catalog.all()) {
      if (this.watched.has(sv.keyPrefix) || IGNORED.has(sv.keyPrefix)) continue;
      // the storage version's entry (objects come in it whichever entry watches)
      if (sv.def.group !== sv.storageGroup) continue;
      this.watched.add(sv.keyPrefix);
      this.watch(sv, (obj, deleted) => this.observe(sv, obj, deleted));
    }
  }

  private link(uid: string, owners: OwnerReference[], add: boolean): void {
    for (const o of owners) {
      let set = this.dependents.get(o.uid);
      if (add) {
        if (!set) {
          set = new Set();
          this.dependents.set(o.uid, set);
        }
        set.add(uid);
      } else if (set) {
        set.delete(uid);
        if (set.size === 0) this.dependents.delete(o.uid);
      }
    }
  }

  private observe(sv: ServedVersion, obj: KObject, deleted: boolean): void {
    const uid = obj.metadata.uid;
    if (!uid) return;
    const prev = this.nodes.get(uid);
    if (prev) this.link(uid, prev.owners, false);
    if (deleted) {
      this.nodes.delete(uid);
      // its dependents may be orphans now; owners waiting in the foreground look again
      for (const d of this.dependents.get(uid) ?? []) this.queue.add(d);
      for (const o of prev?.owners ?? []) if (this.nodes.has(o.uid)) this.queue.add(o.uid);
      return;
    }
    const owners = (obj.metadata.ownerReferences ?? []).filter((r) => isRecord(r) && typeof r.uid === "string");
    this.nodes.set(uid, { sv, namespace: obj.metadata.namespace, name: obj.metadata.name ?? "", owners });
    this.link(uid, owners, true);
    const finalizers = obj.metadata.finalizers ?? [];
    if (obj.metadata.deletionTimestamp && (finalizers.includes(FOREGROUND) || finalizers.includes(ORPHAN))) {
      this.queue.add(uid);
    }
    // an owner this graph does not hold (yet): the reconcile asks the cache, which knows
    if (owners.some((o) => !this.nodes.has(o.uid))) this.queue.add(uid);
    // an owner changed: its dependents' view of it may have too (foreground started, say)
    if (this.dependents.has(uid) && obj.metadata.deletionTimestamp) {
      for (const d of this.dependents.get(uid) ?? []) this.queue.add(d);
    }
  }

  private current(uid: string): { node: GraphNode; obj: KObject } | undefined {
    const node = this.nodes.get(uid);
    if (!node) return undefined;
    const obj = this.client.get(node.sv, node.namespace, node.name);
    return obj && obj.metadata.uid === uid ? { node, obj } : undefined;
  }

  private ownerState(ref: OwnerReference, dependentNamespace: string | undefined): OwnerState {
    const sv = this.client.catalog.lookupKind(ref.apiVersion, ref.kind);
    if (!sv) return "unknown";
    const owner = this.client.get(sv, sv.def.namespaced ? dependentNamespace : undefined, ref.name);
    if (!owner || owner.metadata.uid !== ref.uid) return "dangling";
    if (owner.metadata.deletionTimestamp && (owner.metadata.finalizers ?? []).includes(FOREGROUND)) return "waiting";
    return "solid";
  }

  async reconcile(uid: string): Promise<ReconcileResult> {
    const cur = this.current(uid);
    if (!cur) return undefined;
    const { node, obj } = cur;
    const finalizers = obj.metadata.finalizers ?? [];
    if (obj.metadata.deletionTimestamp && finalizers.includes(ORPHAN)) return this.orphanDependents(uid, node);
    if (obj.metadata.deletionTimestamp && finalizers.includes(FOREGROUND)) return this.deleteDependents(uid, node);
    if (node.owners.length === 0 || obj.metadata.deletionTimestamp) return undefined;
    const states = node.owners.map((o) => this.ownerState(o, node.namespace));
    const what = decide(states, (this.dependents.get(uid)?.size ?? 0) > 0);
    if (what.action === "keep") {
      if (states.includes("unknown")) return { requeueAfterMs: 30_000 };
      return undefined;
    }
    if (what.action === "unlink") {
      const stateOf = new Map(node.owners.map((o, i) => [o.uid, states[i]]));
      await this.patchOwners(node, uid, (refs) =>
        refs
          .filter((r) => stateOf.get(r.uid) !== "dangling")
          // an owner waiting for its dependents no longer waits for this one, which stays
          .map((r) => (stateOf.get(r.uid) === "waiting" ? { ...r, blockOwnerDeletion: false } : r)),
      );
      return undefined;
    }
    log.debug("garbage collector: deleting a dependent whose owners are gone", {
      object: `${node.sv.def.plural}/${node.namespace ? `${node.namespace}/` : ""}${node.name}`,
      policy: what.policy,
    });
    await this.client.delete(node.sv, node.namespace, node.name, {
      propagationPolicy: what.policy,
      preconditions: { uid },
    });
    return undefined;
  }

  /** Orphan propagation: the owner's references leave its dependents, then its finalizer goes. */
  private async orphanDependents(uid: string, node: GraphNode): Promise<ReconcileResult> {
    for (const d of [...(this.dependents.get(uid) ?? [])]) {
      const dep = this.nodes.get(d);
      if (dep) await this.patchOwners(dep, d, (refs) => refs.filter((r) => r.uid !== uid));
    }
    await this.removeFinalizer(node, uid, ORPHAN);
    return undefined;
  }

  /** Foreground propagation: dependents go first; the owner's finalizer goes when no blocking one is left. */
  private async deleteDependents(uid: string, node: GraphNode): Promise<ReconcileResult> {
    let blocking = 0;
    for (const d of [...(this.dependents.get(uid) ?? [])]) {
      const dep = this.current(d);
      if (!dep) continue;
      const ref = dep.node.owners.find((o) => o.uid === uid);
      if (ref?.blockOwnerDeletion) blocking++;
      if (dep.obj.metadata.deletionTimestamp) continue;
      const hasOwn = (this.dependents.get(d)?.size ?? 0) > 0;
      await this.client.delete(dep.node.sv, dep.node.namespace, dep.node.name, {
        propagationPolicy: hasOwn ? "Foreground" : "Background",
        preconditions: { uid: d },
      });
    }
    if (blocking > 0) return { requeueAfterMs: 5000 }; // dependents' deletions wake it sooner
    await this.removeFinalizer(node, uid, FOREGROUND);
    return undefined;
  }

  private async patchOwners(
    node: GraphNode,
    uid: string,
    edit: (refs: OwnerReference[]) => OwnerReference[],
  ): Promise<void> {
    try {
      await this.client.update(node.sv, node.namespace, node.name, "", (o) => {
        if (o.metadata.uid !== uid) throw new ApiError(409, "Conflict", "recreated");
        const refs = edit(o.metadata.ownerReferences ?? []);
        if (refs.length > 0) o.metadata.ownerReferences = refs;
        else delete o.metadata.ownerReferences;
        return o;
      });
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
    }
  }

  private async removeFinalizer(node: GraphNode, uid: string, finalizer: string): Promise<void> {
    try {
      await this.client.update(node.sv, node.namespace, node.name, "", (o) => {
        if (o.metadata.uid !== uid) throw new ApiError(409, "Conflict", "recreated");
        o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== finalizer);
        if (o.metadata.finalizers.length === 0) delete o.metadata.finalizers;
        return o;
      });
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
    }
  }
}
