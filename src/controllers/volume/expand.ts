/**
 * Volume expansion (upstream's volume_expand controller with the external-resizer's protocol, for
 * the provisioners built in): a bound claim asking for more than its status.capacity — admission
 * has checked that its class allows expansion — is grown by its volume's provisioner when that
 * provisioner has a resizer here. Local-path volumes are directories: they grow online, at once;
 * the volume's spec.capacity and the claim's status.capacity and allocatedResources take the new
 * size. While it works the claim has the Resizing condition and allocatedResourceStatuses say
 * ControllerResizeInProgress; a resizer's refusal (the node has not the space) is a
 * VolumeResizeFailed event, a ControllerResizeError condition with the reason, and
 * ControllerResizeInfeasible until the request changes; success clears all of them.
 * Claims of volumes no resizer here serves wait for an external one (ExternalExpanding).
 */
import {
  bytesOf,
  claimCapacityBytes,
  claimRequestBytes,
  provisionedBy,
  specOf,
  statusOf,
  volumeCapacityBytes,
} from "../../api/storage.js";
import { isRecord, type KObject, rfc3339 } from "../../api/types.js";
import type { LocalClient } from "../client.js";
import { QueuedController } from "../controller.js";
import { recordEvent } from "../events.js";
import type { ReconcileResult } from "../queue.js";

/** What grows a provisioner's volumes: why it cannot (a message), or undefined once the storage has the new size. */
export interface Resizer {
  /** The provisioner whose volumes (pv.kubernetes.io/provisioned-by) it grows. */
  provisioner: string;
  expand(pv: KObject, bytes: bigint): Promise<string | undefined>;
}

export class ExpandController extends QueuedController {
  private readonly resizers: Map<string, Resizer>;

  constructor(client: LocalClient, resizers: Resizer[], now?: () => number) {
    super(client, "volume-expand", now);
    this.resizers = new Map(resizers.map((r) => [r.provisioner, r]));
  }

  protected watchAll(): void {
    this.watch(this.client.resource("", "v1", "persistentvolumeclaims"), (pvc, deleted) => {
      if (deleted || statusOf(pvc)["phase"] !== "Bound") return;
      if (claimRequestBytes(pvc) > claimCapacityBytes(pvc))
        this.queue.add(`${pvc.metadata.namespace}/${pvc.metadata.name}`);
    });
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [ns = "", name = ""] = key.split("/");
    const pvcs = this.client.resource("", "v1", "persistentvolumeclaims");
    const pvs = this.client.resource("", "v1", "persistentvolumes");
    const pvc = this.client.get(pvcs, ns, name);
    if (!pvc || statusOf(pvc)["phase"] !== "Bound") return undefined;
    const want = claimRequestBytes(pvc);
    if (want <= claimCapacityBytes(pvc)) return undefined;
    const pv = this.client.get(pvs, undefined, String(specOf(pvc)["volumeName"] ?? ""));
    if (!pv) return undefined;
    const request = (specOf(pvc)["resources"] as { requests?: { storage?: unknown } } | undefined)?.requests?.storage;
    const resizer = this.resizers.get(provisionedBy(pv));
    if (!resizer) {
      await recordEvent(
        this.client,
        pvc,
        "volume_expand",
        "Normal",
        "ExternalExpanding",
        "waiting for an external controller to expand this PVC",
        this.now(),
      );
      return undefined;
    }
    const allocated = statusOf(pvc)["allocatedResources"];
    const infeasibleAt = statusOf(pvc)["allocatedResourceStatuses"];
    // the same request refused before: wait for the user to change it
    if (
      isRecord(infeasibleAt) &&
      infeasibleAt["storage"] === "ControllerResizeInfeasible" &&
      isRecord(allocated) &&
      bytesOf(allocated["storage"]) === want
    ) {
      return undefined;
    }
    const pvName = pv.metadata.name ?? "";
    const source = `external-resizer ${resizer.provisioner}`;
    await recordEvent(
      this.client,
      pvc,
      source,
      "Normal",
      "Resizing",
      `External resizer is resizing volume ${pvName}`,
      this.now(),
    );
    await this.setClaimResize(pvc, request, "ControllerResizeInProgress", { type: "Resizing" });
    const refused = volumeCapacityBytes(pv) >= want ? undefined : await resizer.expand(pv, want);
    if (refused !== undefined) {
      const message = `resize volume "${pvName}" by resizer "${resizer.provisioner}" failed: ${refused}`;
      await this.setClaimResize(pvc, request, "ControllerResizeInfeasible", { type: "ControllerResizeError", message });
      await recordEvent(this.client, pvc, source, "Warning", "VolumeResizeFailed", message, this.now());
      return undefined;
    }
    if (volumeCapacityBytes(pv) < want) {
      await this.client.update(pvs, undefined, pvName, "", (v) => {
        const cap = specOf(v)["capacity"];
        specOf(v)["capacity"] = { ...(isRecord(cap) ? cap : {}), storage: request };
        return v;
      });
    }
    // online and immediate: nothing is left for the node to do
    await this.client.update(pvcs, ns, name, "status", (c) => {
      const s = statusOf(c);
      s["capacity"] = { ...(isRecord(s["capacity"]) ? s["capacity"] : {}), storage: request };
      s["allocatedResources"] = {
        ...(isRecord(s["allocatedResources"]) ? s["allocatedResources"] : {}),
        storage: request,
      };
      delete s["allocatedResourceStatuses"];
      setResizeCondition(s, undefined, this.now());
      c["status"] = s;
      return c;
    });
    await recordEvent(
      this.client,
      pvc,
      source,
      "Normal",
      "VolumeResizeSuccessful",
      "Resize volume succeeded",
      this.now(),
    );
    return undefined;
  }

  private async setClaimResize(
    pvc: KObject,
    request: unknown,
    state: string,
    condition: { type: string; message?: string },
  ): Promise<void> {
    const pvcs = this.client.resource("", "v1", "persistentvolumeclaims");
    await this.client.update(pvcs, pvc.metadata.namespace, pvc.metadata.name ?? "", "status", (c) => {
      const s = statusOf(c);
      s["allocatedResources"] = {
        ...(isRecord(s["allocatedResources"]) ? s["allocatedResources"] : {}),
        storage: request,
      };
      s["allocatedResourceStatuses"] = { storage: state };
      setResizeCondition(s, condition, this.now());
      c["status"] = s;
      return c;
    });
  }
}

/** The claim conditions a resize owns (upstream's isResizeCondition); the others are left alone. */
const RESIZE_CONDITIONS = new Set(["Resizing", "FileSystemResizePending", "ControllerResizeError", "NodeResizeError"]);

/**
 * Replaces the resize conditions of a claim's status with `next` (none when undefined), as the
 * external-resizer merges them: a condition already there with the same type and message keeps its
 * transition time.
 */
function setResizeCondition(
  status: Record<string, unknown>,
  next: { type: string; message?: string } | undefined,
  now: number,
): void {
  const existing = Array.isArray(status["conditions"]) ? status["conditions"] : [];
  const kept = existing.filter((x) => !isRecord(x) || !RESIZE_CONDITIONS.has(String(x["type"])));
  if (next) {
    const same = existing.find(
      (x) => isRecord(x) && x["type"] === next.type && x["status"] === "True" && x["message"] === next.message,
    );
    kept.push(
      isRecord(same)
        ? same
        : {
            type: next.type,
            status: "True",
            lastProbeTime: null,
            lastTransitionTime: rfc3339(now),
            ...(next.message !== undefined ? { message: next.message } : {}),
          },
    );
  }
  if (kept.length > 0) status["conditions"] = kept;
  else delete status["conditions"];
}
