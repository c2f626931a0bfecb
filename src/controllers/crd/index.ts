/**
 * CRD controller: serves each CustomResourceDefinition's resource once it is stored, and reports
 * the NamesAccepted and Established conditions as upstream does.
 */
import { isRecord, type KObject } from "../../api/types.js";
import type { LocalClient } from "../client.js";
import { type ReconcileResult, WorkQueue } from "../queue.js";

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

  async reconcile(name: string): Promise<ReconcileResult> {
    const res = this.client.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions");
    const crd = this.client.get(res, undefined, name);
    if (!crd) {
      this.client.catalog.removeCrd(name);
      return undefined;
    }
    if (crd.metadata.deletionTimestamp !== undefined) {
      this.client.catalog.removeCrd(name);
      return undefined;
    }
    this.client.catalog.upsertCrd(crd);
    const status = isRecord(crd["status"]) ? crd["status"] : {};
    const conditions = Array.isArray(status["conditions"]) ? status["conditions"].filter(isRecord) : [];
    if (conditions.some((c) => c["type"] === "Established" && c["status"] === "True")) return undefined;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
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
