/**
 * Storage object in-use protection (upstream pvcprotection and pvprotection controllers): a claim
 * being deleted keeps its kubernetes.io/pvc-protection finalizer — and `kubectl get pvc` shows it
 * Terminating — while a scheduled pod that has not finished uses it; a volume being deleted keeps
 * kubernetes.io/pv-protection while it is Bound. The finalizers come from admission
 * (src/apiserver/storage-admission.ts).
 */
import { PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER, specOf, statusOf } from "../../api/storage.js";
import type { KObject } from "../../api/types.js";
import type { LocalClient } from "../client.js";
import { QueuedController } from "../controller.js";
import type { ReconcileResult } from "../queue.js";
import { ClaimUsers } from "./claimusers.js";

/** Whether a pod holds its claims: scheduled (the kubelet may be mounting them) and not finished. */
function podHoldsClaims(pod: KObject): boolean {
  const phase = statusOf(pod)["phase"];
  return (
    typeof specOf(pod)["nodeName"] === "string" &&
    specOf(pod)["nodeName"] !== "" &&
    phase !== "Succeeded" &&
    phase !== "Failed"
  );
}

function withoutFinalizer(obj: KObject, f: string): KObject {
  obj.metadata.finalizers = (obj.metadata.finalizers ?? []).filter((x) => x !== f);
  return obj;
}

export class PvcProtectionController extends QueuedController {
  /** The pods holding each claim. */
  private readonly users = new ClaimUsers();

  constructor(client: LocalClient, now?: () => number) {
    super(client, "pvc-protection", now);
  }

  override stop(): void {
    super.stop();
    this.users.clear();
  }

  /** The pods (`<ns>/<name>`) holding the claim. */
  usersOf(ns: string, claim: string): string[] {
    return this.users.of(`${ns}/${claim}`);
  }

  protected watchAll(): void {
    this.watch(this.client.resource("", "v1", "persistentvolumeclaims"), (pvc, deleted) => {
      if (!deleted && pvc.metadata.deletionTimestamp) this.queue.add(`${pvc.metadata.namespace}/${pvc.metadata.name}`);
    });
    this.watch(this.client.resource("", "v1", "pods"), (pod, deleted) => {
      for (const key of this.users.observe(pod, deleted, podHoldsClaims).left) this.queue.add(key);
    });
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [ns = "", name = ""] = key.split("/");
    const sv = this.client.resource("", "v1", "persistentvolumeclaims");
    const pvc = this.client.get(sv, ns, name);
    if (!pvc?.metadata.deletionTimestamp || !(pvc.metadata.finalizers ?? []).includes(PVC_PROTECTION_FINALIZER)) {
      return undefined;
    }
    // a pod created a moment ago may not be in the index yet: read consistently before letting go
    await this.client.sync();
    if (this.users.of(key).length > 0) return undefined;
    const uid = pvc.metadata.uid;
    await this.client.update(sv, ns, name, "", (c) =>
      c.metadata.uid === uid ? withoutFinalizer(c, PVC_PROTECTION_FINALIZER) : c,
    );
    return undefined;
  }
}

export class PvProtectionController extends QueuedController {
  constructor(client: LocalClient, now?: () => number) {
    super(client, "pv-protection", now);
  }

  protected watchAll(): void {
    this.watch(this.client.resource("", "v1", "persistentvolumes"), (pv, deleted) => {
      if (!deleted && pv.metadata.deletionTimestamp) this.queue.add(pv.metadata.name ?? "");
    });
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const sv = this.client.resource("", "v1", "persistentvolumes");
    const pv = this.client.get(sv, undefined, name);
    if (!pv?.metadata.deletionTimestamp || !(pv.metadata.finalizers ?? []).includes(PV_PROTECTION_FINALIZER)) {
      return undefined;
    }
    if (statusOf(pv)["phase"] === "Bound") return undefined;
    const uid = pv.metadata.uid;
    await this.client.update(sv, undefined, name, "", (v) =>
      v.metadata.uid === uid ? withoutFinalizer(v, PV_PROTECTION_FINALIZER) : v,
    );
    return undefined;
  }
}
