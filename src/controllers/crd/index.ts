/**
 * CRD controller: serves each CustomResourceDefinition's resource once it is stored, and reports
 * the NamesAccepted and Established conditions as upstream does.
 */
import { isRecord, type KObject, rfc3339 } from "../../api/types.js";
import type { LocalClient } from "../client.js";
import { type ReconcileResult, WorkQueue } from "../queue.js";

export const CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io";

export class CrdController {
  private readonly client: LocalClient;
  private readonly queue: WorkQueue;
  private stopInformer: (() => void) | undefined;

  constructor(client: LocalClient) {
    this.client = client;
    this.queue = new WorkQueue("crd", (key) => this.reconcile(key));
  }

  start(): void {
    const crds = this.client.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions");
    const s = this.client.informer(crds, (obj) => this.queue.add(obj.metadata.name ?? ""));
    this.stopInformer = () => s.stop();
  }

  stop(): void {
    this.stopInformer?.();
    this.queue.stop();
  }

  /**
   * A CRD being deleted: its custom resources are deleted first, then the cleanup finalizer goes
   * and with it the CRD (upstream's customresourcecleanup finalizer).
   */
  private async cleanUp(crd: KObject): Promise<ReconcileResult> {
    const name = crd.metadata.name ?? "";
    const spec = isRecord(crd["spec"]) ? crd["spec"] : {};
    const names = isRecord(spec["names"]) ? spec["names"] : {};
    const versions = Array.isArray(spec["versions"]) ? spec["versions"].filter(isRecord) : [];
    const storage = versions.find((v) => v["storage"] === true);
    const sv = storage
      ? this.client.catalog.lookup(String(spec["group"]), String(storage["name"]), String(names["plural"]))
      : undefined;
    if (sv) {
      const remaining = await this.client.list(sv);
      for (const c of remaining) {
        if (c.obj.metadata.deletionTimestamp === undefined) {
          await this.client.delete(sv, c.obj.metadata.namespace, c.obj.metadata.name ?? "", { gracePeriodSeconds: 0 });
        }
      }
      if (remaining.length > 0) return { requeueAfterMs: 500 };
    }
    const res = this.client.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions");
    await this.client.update(res, undefined, name, "", (o) => {
      o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== CLEANUP_FINALIZER);
      return o;
    });
    return undefined;
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const res = this.client.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions");
    const crd = this.client.get(res, undefined, name);
    if (!crd) {
      this.client.catalog.removeCrd(name);
      return undefined;
    }
    if (crd.metadata.deletionTimestamp !== undefined) return this.cleanUp(crd);
    this.client.catalog.upsertCrd(crd);
    const status = isRecord(crd["status"]) ? crd["status"] : {};
    const conditions = Array.isArray(status["conditions"]) ? status["conditions"].filter(isRecord) : [];
    if (conditions.some((c) => c["type"] === "Established" && c["status"] === "True")) return undefined;
    const now = rfc3339();
    const spec = isRecord(crd["spec"]) ? crd["spec"] : {};
    await this.client.update(res, undefined, name, "status", (o: KObject) => {
      o["status"] = {
        conditions: [
          {
            type: "NamesAccepted",
            status: "True",
            lastTransitionTime: now,
            reason: "NoConflicts",
            message: "no conflicts found",
          },
          {
            type: "Established",
            status: "True",
            lastTransitionTime: now,
            reason: "InitialNamesAccepted",
            message: "the initial names have been accepted",
          },
        ],
        acceptedNames: spec["names"] ?? {},
        storedVersions: Array.isArray(spec["versions"])
          ? spec["versions"]
              .filter((v) => isRecord(v) && v["storage"] === true)
              .map((v) => (v as Record<string, unknown>)["name"])
          : [],
      };
      return o;
    });
    return undefined;
  }
}
