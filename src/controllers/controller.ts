/**
 * What every queue-driven controller shares: a work queue of keys fed by informers, started and
 * stopped with leadership (the queue is new at each start, so keys of an earlier term are gone).
 * A controller opens its informers in `watchAll` with `watch` and handles a key in `reconcile`.
 */
import type { KObject } from "../api/types.js";
import type { ServedVersion } from "../apiserver/catalog.js";
import type { LocalClient } from "./client.js";
import { type ReconcileResult, WorkQueue } from "./queue.js";

export abstract class QueuedController {
  protected readonly client: LocalClient;
  protected readonly now: () => number;
  protected queue: WorkQueue;
  private readonly queueName: string;
  private stops: Array<() => void> = [];

  constructor(client: LocalClient, queueName: string, now: () => number = Date.now) {
    this.client = client;
    this.queueName = queueName;
    this.now = now;
    this.queue = new WorkQueue(queueName, (key) => this.reconcile(key));
  }

  abstract reconcile(key: string): Promise<ReconcileResult>;

  /** Opens the controller's informers (with `watch`). */
  protected abstract watchAll(): void;

  start(): void {
    this.queue = new WorkQueue(this.queueName, (key) => this.reconcile(key));
    this.watchAll();
  }

  stop(): void {
    for (const s of this.stops) s();
    this.stops = [];
    this.queue.stop();
  }

  /** An informer that lives until stop(). */
  protected watch(sv: ServedVersion, onChange: (obj: KObject, deleted: boolean) => void): void {
    const s = this.client.informer(sv, onChange);
    this.stops.push(() => s.stop());
  }
}
