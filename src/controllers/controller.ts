/**
 * What every queue-driven controller shares: a work queue of keys fed by informers, started and
 * stopped with leadership (the queue is new at each start, so keys of an earlier term are gone).
 * A controller opens its informers in `watchAll` with `watch` and handles a key in `reconcile`.
 */
import type { KObject } from "../api/types.js";
import type { ServedVersion } from "../apiserver/catalog.js";
import type { LocalClient } from "./client.js";
import { type ReconcileResult, WorkQueue } from "./queue.js";
import { controllerOf, selects } from "./refmanager.js";

export abstract class QueuedController {
  protected readonly client: LocalClient;
  protected readonly now: () => number;
  protected queue: WorkQueue;
  private readonly queueName: string;
  private stops: Array<() => void> = [];
  /** Keys (`<ns>/<name>`) of the owners seen by watchOwners. */
  private readonly ownerKeys = new Set<string>();

  private readonly workers: number;

  /** `workers`: how many keys are reconciled at once (kube-controller-manager's --concurrent-*-syncs). */
  constructor(client: LocalClient, queueName: string, now: () => number = Date.now, workers = 1) {
    this.client = client;
    this.queueName = queueName;
    this.now = now;
    this.workers = workers;
    this.queue = new WorkQueue(queueName, (key) => this.reconcile(key), workers);
  }

  abstract reconcile(key: string): Promise<ReconcileResult>;

  /** Opens the controller's informers (with `watch`). */
  protected abstract watchAll(): void;

  start(): void {
    this.queue = new WorkQueue(this.queueName, (key) => this.reconcile(key), this.workers);
    this.watchAll();
  }

  stop(): void {
    for (const s of this.stops) s();
    this.stops = [];
    this.queue.stop();
    this.ownerKeys.clear();
  }

  /** An informer on the controller's own objects: each change queues its `<ns>/<name>` key. */
  protected watchOwners(sv: ServedVersion): void {
    this.watch(sv, (o, deleted) => {
      const key = `${o.metadata.namespace}/${o.metadata.name}`;
      if (deleted) this.ownerKeys.delete(key);
      else this.ownerKeys.add(key);
      this.queue.add(key);
    });
  }

  /** Every owner key seen by watchOwners. */
  protected allOwners(): Iterable<string> {
    return this.ownerKeys;
  }

  /** The keys of the owners (of `sv`, seen by watchOwners) in the object's namespace whose spec.selector takes it. */
  protected selectingOwners(sv: ServedVersion, obj: KObject): string[] {
    const out: string[] = [];
    for (const key of this.ownerKeys) {
      const [ns = "", name = ""] = key.split("/");
      if (ns !== obj.metadata.namespace) continue;
      const owner = this.client.get(sv, ns, name);
      if (owner && selects(owner, obj.metadata.labels ?? {})) out.push(key);
    }
    return out;
  }

  /** An informer that lives until stop(). */
  protected watch(sv: ServedVersion, onChange: (obj: KObject, deleted: boolean) => void): void {
    const s = this.client.informer(sv, onChange);
    this.stops.push(() => s.stop());
  }

  /**
   * An informer on dependents (pods, ReplicaSets): a change to one wakes the owner its controller
   * reference names when that owner is of `ownerKinds` (and the owner it had before, when the
   * reference changed or went); an orphan that appears or whose labels change wakes the owners
   * `adopters` names, which may adopt it. Owner keys are `key(kind, namespace, name)`.
   */
  protected watchDependents(
    sv: ServedVersion,
    ownerKinds: readonly string[],
    adopters: (orphan: KObject) => Iterable<string>,
    key: (kind: string, namespace: string, name: string) => string = (_k, ns, name) => `${ns}/${name}`,
  ): void {
    const owners = new Map<string, string>();
    const orphans = new Map<string, string>();
    this.watch(sv, (obj, deleted) => {
      const uid = obj.metadata.uid ?? "";
      const ref = controllerOf(obj);
      const ns = obj.metadata.namespace ?? "";
      const owner = ref && ownerKinds.includes(ref.kind) ? key(ref.kind, ns, ref.name) : undefined;
      const before = owners.get(uid);
      if (before !== undefined && before !== owner) this.queue.add(before);
      if (deleted || owner === undefined) owners.delete(uid);
      else owners.set(uid, owner);
      if (deleted || ref) orphans.delete(uid);
      if (owner !== undefined) {
        this.queue.add(owner);
        return;
      }
      if (ref || deleted) return;
      const labels = JSON.stringify(obj.metadata.labels ?? {});
      if (orphans.get(uid) === labels) return;
      orphans.set(uid, labels);
      for (const k of adopters(obj)) this.queue.add(k);
    });
  }
}
