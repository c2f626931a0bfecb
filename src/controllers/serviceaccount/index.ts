/** ServiceAccount controller: every active namespace has a `default` ServiceAccount. */
import type { LocalClient } from "../client.js";
import { type ReconcileResult, WorkQueue } from "../queue.js";

export class ServiceAccountController {
  private readonly client: LocalClient;
  private readonly queue: WorkQueue;
  private stops: Array<() => void> = [];

  constructor(client: LocalClient) {
    this.client = client;
    this.queue = new WorkQueue("serviceaccount", (key) => this.reconcile(key));
  }

  start(): void {
    const ns = this.client.resource("", "v1", "namespaces");
    const sa = this.client.resource("", "v1", "serviceaccounts");
    const a = this.client.informer(ns, (obj, deleted) => {
      if (!deleted) this.queue.add(obj.metadata.name ?? "");
    });
    const b = this.client.informer(sa, (obj, deleted) => {
      if (deleted && obj.metadata.name === "default") this.queue.add(obj.metadata.namespace ?? "");
    });
    this.stops = [() => a.stop(), () => b.stop()];
  }

  stop(): void {
    for (const s of this.stops) s();
    this.queue.stop();
  }

  async reconcile(namespace: string): Promise<ReconcileResult> {
    const ns = this.client.get(this.client.resource("", "v1", "namespaces"), undefined, namespace);
    if (!ns || ns.metadata.deletionTimestamp !== undefined) return undefined;
    const sa = this.client.resource("", "v1", "serviceaccounts");
    if (this.client.get(sa, namespace, "default")) return undefined;
    await this.client.ensure(sa, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "default", namespace },
    });
    return undefined;
  }
}
