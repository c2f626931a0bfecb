/**
 * Namespace controller: a namespace being deleted has every namespaced object in it deleted;
 * once none is left, the `kubernetes` finalizer is removed and the namespace goes away.
 */
import { isRecord } from "../../api/types.js";
import type { LocalClient } from "../client.js";
import { type ReconcileResult, WorkQueue } from "../queue.js";

export class NamespaceController {
  private readonly client: LocalClient;
  private readonly queue: WorkQueue;
  private stopInformer: (() => void) | undefined;

  constructor(client: LocalClient) {
    this.client = client;
    this.queue = new WorkQueue("namespace", (key) => this.reconcile(key));
  }

  start(): void {
    const ns = this.client.resource("", "v1", "namespaces");
    const s = this.client.informer(ns, (obj) => this.queue.add(obj.metadata.name ?? ""));
    this.stopInformer = () => s.stop();
  }

  stop(): void {
    this.stopInformer?.();
    this.queue.stop();
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const nsRes = this.client.resource("", "v1", "namespaces");
    const ns = this.client.get(nsRes, undefined, name);
    if (!ns || ns.metadata.deletionTimestamp === undefined) return undefined;
    let remaining = 0;
    const seen = new Set<string>();
    for (const sv of this.client.catalog.all()) {
      if (!sv.def.namespaced || seen.has(sv.keyPrefix) || sv.apiVersion !== sv.def.storageVersion) continue;
      seen.add(sv.keyPrefix);
      for (const c of await this.client.list(sv, name)) {
        remaining++;
        if (c.obj.metadata.deletionTimestamp === undefined) {
          await this.client.delete(sv, name, c.obj.metadata.name ?? "", {
            propagationPolicy: "Background",
            gracePeriodSeconds: 0,
          });
        }
      }
    }
    if (remaining > 0) return { requeueAfterMs: 1000 };
    const spec = isRecord(ns["spec"]) ? ns["spec"] : {};
    const finalizers = Array.isArray(spec["finalizers"]) ? spec["finalizers"].filter((f) => f !== "kubernetes") : [];
    await this.finalize(name, finalizers);
    return undefined;
  }

  private async finalize(name: string, finalizers: unknown[]): Promise<void> {
    const nsRes = this.client.resource("", "v1", "namespaces");
    await this.client.registry.update(
      nsRes,
      undefined,
      name,
      "finalize",
      (cur) => {
        cur["spec"] = { ...(isRecord(cur["spec"]) ? cur["spec"] : {}), finalizers };
        delete cur.metadata.resourceVersion;
        return cur;
      },
      { dryRun: false, retry: true },
    );
  }
}
