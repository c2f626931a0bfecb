/**
 * The PersistentVolume controller (upstream pkg/controller/volume/persistentvolume, the binder):
 * binds claims to volumes (match.ts), asks provisioners for new ones, and reclaims released
 * volumes per their policy. One queue of `claim/<ns>/<name>` and `volume/<name>` keys, handled one
 * at a time, so two claims never take the same volume.
 *
 * - A claim without a volume: the default class is given to a claim naming none (1.28's
 *   retroactive rule); then the best matching volume is bound; without one, a class whose binding
 *   waits for a consumer waits (WaitForFirstConsumer / WaitForPodScheduled), a class hands the
 *   claim to its provisioner (the storage-provisioner annotations and an ExternalProvisioning event,
 *   or ProvisioningFailed for a class that does not exist or an in-tree plugin k8ts lacks), and a
 *   claim with no class waits for an administrator (FailedBinding).
 * - A claim naming a volume binds to it when it fits (VolumeMismatch otherwise).
 * - Binding writes the volume first (claimRef, bound-by-controller, phase Bound), then the claim
 *   (volumeName, bind-completed, bound-by-controller, then status Bound with the volume's access
 *   modes and capacity); an interrupted binding is finished by the next sync of either object.
 * - A bound claim whose volume is gone or bound elsewhere is Lost (ClaimLost / ClaimMisbound).
 * - A volume whose claim is gone is Released and reclaimed: Retain keeps it, Recycle scrubs it and
 *   makes it Available (VolumeRecycled) or Failed (VolumeFailedRecycle), Delete leaves volumes of
 *   external provisioners to them and deletes static ones where upstream's in-tree deleter would
 *   (VolumeFailedDelete otherwise).
 * - An administrator's change of a bound volume's capacity shows in the claim's status.capacity
 *   (as seed 003 describes), unless an expansion is in flight.
 */
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  accessModes,
  claimCapacityBytes,
  claimClass,
  claimClassUnset,
  claimRefOf,
  claimRequestBytes,
  defaultClass,
  provisionedBy,
  reclaimPolicy,
  specOf,
  statusOf,
  volumeCapacityBytes,
  volumeClass,
  volumeMode,
} from "../../../api/storage.js";
import { isRecord, type KObject, rfc3339 } from "../../../api/types.js";
import { log } from "../../../util/log.js";
import type { LocalClient } from "../../client.js";
import { QueuedController } from "../../controller.js";
import { recordEvent } from "../../events.js";
import type { ReconcileResult } from "../../queue.js";
import { ClaimUsers } from "../claimusers.js";
import { accessModesContain, bindVolumeToClaim, isVolumeBoundToClaim, VolumeIndex } from "./match.js";
import { deleteStaticVolume, NoPluginError, type ReclaimOptions, recycleVolume } from "./reclaim.js";

const COMPONENT = "persistentvolume-controller";

/** In-tree plugins whose provisioning moved to a CSI driver (CSI migration): the claim waits for that driver. */
const MIGRATED: Readonly<Record<string, string>> = {
  "kubernetes.io/aws-ebs": "ebs.csi.aws.com",
  "kubernetes.io/gce-pd": "pd.csi.storage.gke.io",
  "kubernetes.io/azure-disk": "disk.csi.azure.com",
  "kubernetes.io/azure-file": "file.csi.azure.com",
  "kubernetes.io/cinder": "cinder.csi.openstack.org",
  "kubernetes.io/vsphere-volume": "csi.vsphere.vmware.com",
  "kubernetes.io/portworx-volume": "pxd.portworx.com",
};

/** How often a Failed volume's reclaim is tried again (upstream's resync period is 15 s). */
const FAILED_RETRY_MS = 15_000;

export interface PersistentVolumeControllerOptions extends ReclaimOptions {
  now?: () => number;
}

/** Thrown from an update's mutate when the object changed under us: the sync starts over. */
class Changed extends Error {}

export class PersistentVolumeController extends QueuedController {
  private readonly volumes = new VolumeIndex();
  /** `<ns>/<claim>` of the claims without a volume (what a new volume or class may serve). */
  private readonly pendingClaims = new Set<string>();
  /** The unfinished pods using each claim. */
  private readonly claimUsers = new ClaimUsers();
  private readonly opts: PersistentVolumeControllerOptions;

  constructor(client: LocalClient, opts: PersistentVolumeControllerOptions = {}) {
    super(client, "persistentvolume-binder", opts.now);
    this.opts = opts;
  }

  private get pvs() {
    return this.client.resource("", "v1", "persistentvolumes");
  }

  private get pvcs() {
    return this.client.resource("", "v1", "persistentvolumeclaims");
  }

  private get classes() {
    return this.client.resource("storage.k8s.io", "v1", "storageclasses");
  }

  override stop(): void {
    super.stop();
    this.claimUsers.clear();
    this.pendingClaims.clear();
    this.volumes.clear();
  }

  protected watchAll(): void {
    this.watch(this.pvs, (pv, deleted) => {
      if (deleted) this.volumes.remove(pv);
      else this.volumes.upsert(pv);
      this.queue.add(`volume/${pv.metadata.name}`);
      const ref = claimRefOf(pv);
      if (ref) this.queue.add(`claim/${ref.namespace}/${ref.name}`);
      // a volume that becomes available may be what a pending claim waits for
      if (!deleted && !ref) this.requeuePendingClaims();
    });
    this.watch(this.pvcs, (pvc, deleted) => {
      const key = `${pvc.metadata.namespace}/${pvc.metadata.name}`;
      if (!deleted && !specOf(pvc)["volumeName"]) this.pendingClaims.add(key);
      else this.pendingClaims.delete(key);
      this.queue.add(`claim/${key}`);
      if (deleted) for (const pv of this.volumes.claimedBy(key)) this.queue.add(`volume/${pv.metadata.name}`);
    });
    // a new or newly default class may be what pending claims wait for
    this.watch(this.classes, () => this.requeuePendingClaims());
    this.watch(this.client.resource("", "v1", "pods"), (pod, deleted) => this.indexPod(pod, deleted));
  }

  private indexPod(pod: KObject, deleted: boolean): void {
    const phase = (p: KObject) => statusOf(p)["phase"];
    const { joined } = this.claimUsers.observe(pod, deleted, (p) => phase(p) !== "Succeeded" && phase(p) !== "Failed");
    // WaitForFirstConsumer claims tell which pod they wait for
    for (const key of joined) this.queue.add(`claim/${key}`);
  }

  private requeuePendingClaims(): void {
    for (const key of this.pendingClaims) this.queue.add(`claim/${key}`);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    try {
      if (key.startsWith("claim/")) {
        const [ns = "", name = ""] = key.slice("claim/".length).split("/");
        const claim = this.client.get(this.pvcs, ns, name);
        if (claim) await this.syncClaim(claim);
        return undefined;
      }
      const pv = this.client.get(this.pvs, undefined, key.slice("volume/".length));
      return pv ? await this.syncVolume(pv) : undefined;
    } catch (err) {
      if (err instanceof Changed) return { requeueAfterMs: 10 };
      throw err;
    }
  }

  // ---- claims ----

  private async syncClaim(claim: KObject): Promise<void> {
    if (claim.metadata.annotations?.[ANN_BIND_COMPLETED] === undefined) await this.syncUnboundClaim(claim);
    else await this.syncBoundClaim(claim);
  }

  private async syncUnboundClaim(claim: KObject): Promise<void> {
    const volumeName = String(specOf(claim)["volumeName"] ?? "");
    if (volumeName === "") {
      if (claimClassUnset(claim)) {
        const def = defaultClass((await this.client.list(this.classes)).map((c) => c.obj));
        if (def) {
          await this.updateClaim(claim, "", (c) => {
            if (!claimClassUnset(c)) throw new Changed();
            specOf(c)["storageClassName"] = def.metadata.name;
            return c;
          });
          return;
        }
      }
      const cls = claimClass(claim);
      const sc = cls === "" ? undefined : this.client.get(this.classes, undefined, cls);
      const delayBinding = sc?.["volumeBindingMode"] === "WaitForFirstConsumer";
      const volume = this.volumes.findBestMatch(claim, { delayBinding });
      if (volume) {
        await this.bind(volume, claim);
        return;
      }
      if (delayBinding && claim.metadata.annotations?.[ANN_SELECTED_NODE] === undefined) {
        const pod = this.claimUsers.of(`${claim.metadata.namespace}/${claim.metadata.name}`)[0];
        if (pod !== undefined) {
          await this.event(claim, "Normal", "WaitForPodScheduled", `waiting for pod ${pod} to be scheduled`);
        } else {
          await this.event(
            claim,
            "Normal",
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding",
          );
        }
      } else if (cls !== "") {
        await this.provisionClaim(claim, cls, sc);
      } else {
        await this.event(
          claim,
          "Normal",
          "FailedBinding",
          "no persistent volumes available for this claim and no storage class is set",
        );
      }
      await this.setClaimStatus(claim, "Pending", undefined);
      return;
    }
    // the user asked for a particular volume
    const volume = this.volumes.get(volumeName);
    if (!volume) {
      await this.setClaimStatus(claim, "Pending", undefined);
      return;
    }
    if (!claimRefOf(volume)) {
      const why = volumeSatisfiesClaim(volume, claim);
      if (why) {
        await this.event(claim, "Warning", "VolumeMismatch", `Cannot bind to requested volume "${volumeName}": ${why}`);
        await this.setClaimStatus(claim, "Pending", undefined);
        return;
      }
      await this.bind(volume, claim);
      return;
    }
    if (isVolumeBoundToClaim(volume, claim)) {
      await this.bind(volume, claim);
      return;
    }
    // taken by another claim: wait (a user's choice), or it is a binding we cannot have made
    await this.setClaimStatus(claim, "Pending", undefined);
  }

  private async syncBoundClaim(claim: KObject): Promise<void> {
    const volumeName = String(specOf(claim)["volumeName"] ?? "");
    if (volumeName === "") {
      await this.claimLost(
        claim,
        "ClaimLost",
        "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!",
      );
      return;
    }
    let volume = this.volumes.get(volumeName);
    if (!volume) {
      await this.client.sync();
      volume = this.client.get(this.pvs, undefined, volumeName);
    }
    if (!volume) {
      await this.claimLost(
        claim,
        "ClaimLost",
        "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
      );
      return;
    }
    const ref = claimRefOf(volume);
    if (!ref || ref.uid === claim.metadata.uid) {
      await this.bind(volume, claim);
      return;
    }
    await this.claimLost(
      claim,
      "ClaimMisbound",
      "Two claims are bound to the same volume, this one is bound incorrectly",
    );
  }

  private async claimLost(claim: KObject, reason: string, message: string): Promise<void> {
    if (statusOf(claim)["phase"] === "Lost") return;
    await this.setClaimStatus(claim, "Lost", undefined);
    await this.event(claim, "Warning", reason, message);
  }

  /** Upstream provisionClaim: the class's provisioner is asked for a volume (by annotation), or the claim says why none comes. */
  private async provisionClaim(claim: KObject, cls: string, sc: KObject | undefined): Promise<void> {
    if (!sc) {
      await this.event(claim, "Warning", "ProvisioningFailed", `storageclass.storage.k8s.io "${cls}" not found`);
      return;
    }
    const declared = String(sc["provisioner"] ?? "");
    const provisioner = MIGRATED[declared] ?? declared;
    // an in-tree plugin k8ts lacks (kubernetes.io/no-provisioner too: its volumes are made by hand)
    if (provisioner.startsWith("kubernetes.io/")) {
      await this.event(claim, "Warning", "ProvisioningFailed", `no volume plugin matched name: ${provisioner}`);
      return;
    }
    const ann = claim.metadata.annotations ?? {};
    if (ann[ANN_STORAGE_PROVISIONER] !== provisioner || ann[ANN_BETA_STORAGE_PROVISIONER] !== provisioner) {
      claim = await this.updateClaim(claim, "", (c) => {
        c.metadata.annotations = {
          ...c.metadata.annotations,
          [ANN_STORAGE_PROVISIONER]: provisioner,
          [ANN_BETA_STORAGE_PROVISIONER]: provisioner,
        };
        return c;
      });
    }
    await this.event(
      claim,
      "Normal",
      "ExternalProvisioning",
      `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
  }

  /** Upstream bind(): the volume first, then the claim; each step is a no-op when already done. */
  private async bind(volume: KObject, claim: KObject): Promise<void> {
    const volumeName = volume.metadata.name ?? "";
    const claimNs = claim.metadata.namespace ?? "";
    const claimName = claim.metadata.name ?? "";
    const ref = claimRefOf(volume);
    if (!ref || ref.uid !== claim.metadata.uid || ref.namespace !== claimNs || ref.name !== claimName) {
      volume = await this.client.update(this.pvs, undefined, volumeName, "", (v) => {
        const cur = claimRefOf(v);
        if (cur && !isVolumeBoundToClaim(v, claim)) throw new Changed();
        if (!cur && v.metadata.deletionTimestamp) throw new Changed();
        return bindVolumeToClaim(v, claim).pv;
      });
      this.volumes.upsert(volume);
    }
    volume = await this.setVolumePhase(volume, "Bound");
    const ann = claim.metadata.annotations ?? {};
    if (specOf(claim)["volumeName"] !== volumeName || ann[ANN_BIND_COMPLETED] === undefined) {
      const byController = !specOf(claim)["volumeName"];
      claim = await this.updateClaim(claim, "", (c) => {
        const cur = String(specOf(c)["volumeName"] ?? "");
        if (cur !== "" && cur !== volumeName) throw new Changed();
        specOf(c)["volumeName"] = volumeName;
        const a: Record<string, string> = { ...c.metadata.annotations, [ANN_BIND_COMPLETED]: "yes" };
        if (byController) a[ANN_BOUND_BY_CONTROLLER] = "yes";
        c.metadata.annotations = a;
        return c;
      });
    }
    await this.setClaimStatus(claim, "Bound", volume);
  }

  private async updateClaim(claim: KObject, sub: string, mutate: (c: KObject) => KObject): Promise<KObject> {
    return this.client.update(this.pvcs, claim.metadata.namespace, claim.metadata.name ?? "", sub, (c) => {
      if (c.metadata.uid !== claim.metadata.uid) throw new Changed();
      return mutate(c);
    });
  }

  /** Upstream updateClaimStatus: phase, and from the volume its access modes and capacity. */
  private async setClaimStatus(claim: KObject, phase: string, volume: KObject | undefined): Promise<void> {
    const st = statusOf(claim);
    const want: Record<string, unknown> = {};
    if (volume) {
      want["accessModes"] = accessModes(volume);
      const becomingBound = st["phase"] !== phase;
      const cap = specOf(volume)["capacity"];
      const volCap = isRecord(cap) ? cap["storage"] : undefined;
      // an administrator's change of the volume's size shows in the claim, unless an expansion is in flight
      const resizing =
        isRecord(st["allocatedResourceStatuses"]) && Object.keys(st["allocatedResourceStatuses"]).length > 0;
      if (
        volCap !== undefined &&
        (becomingBound || (!resizing && claimCapacityBytes(claim) !== volumeCapacityBytes(volume)))
      ) {
        want["capacity"] = cap;
      }
    }
    const sameModes = JSON.stringify(st["accessModes"] ?? null) === JSON.stringify(want["accessModes"] ?? null);
    if (
      st["phase"] === phase &&
      (volume
        ? sameModes && want["capacity"] === undefined
        : st["accessModes"] === undefined && st["capacity"] === undefined)
    ) {
      return;
    }
    await this.updateClaim(claim, "status", (c) => {
      const s = isRecord(c["status"]) ? c["status"] : {};
      s["phase"] = phase;
      if (volume) {
        s["accessModes"] = want["accessModes"];
        if (want["capacity"] !== undefined) s["capacity"] = want["capacity"];
      } else {
        delete s["accessModes"];
        delete s["capacity"];
      }
      c["status"] = s;
      return c;
    });
  }

  // ---- volumes ----

  private async syncVolume(volume: KObject): Promise<ReconcileResult> {
    const ref = claimRefOf(volume);
    if (!ref || ref.uid === undefined) {
      // unused, or reserved for a claim that has not bound to it yet
      await this.setVolumePhase(volume, "Available");
      return undefined;
    }
    let claim = this.client.get(this.pvcs, ref.namespace, ref.name);
    if (!claim) {
      await this.client.sync();
      claim = this.client.get(this.pvcs, ref.namespace, ref.name);
    }
    if (claim && claim.metadata.uid !== ref.uid) claim = undefined;
    if (!claim) {
      const phase = statusOf(volume)["phase"];
      if (phase !== "Released" && phase !== "Failed") volume = await this.setVolumePhase(volume, "Released");
      return this.reclaim(volume);
    }
    const claimVolume = String(specOf(claim)["volumeName"] ?? "");
    if (claimVolume === "") {
      this.queue.add(`claim/${ref.namespace}/${ref.name}`);
      return undefined;
    }
    if (claimVolume === volume.metadata.name) {
      await this.setVolumePhase(volume, "Bound");
      // the claim follows an administrator's capacity change
      if (claimCapacityBytes(claim) !== volumeCapacityBytes(volume)) {
        this.queue.add(`claim/${ref.namespace}/${ref.name}`);
      }
      return undefined;
    }
    // the claim is bound to another volume
    if (provisionedBy(volume) !== "" && reclaimPolicy(volume) === "Delete") {
      const phase = statusOf(volume)["phase"];
      if (phase !== "Released" && phase !== "Failed") volume = await this.setVolumePhase(volume, "Released");
      return this.reclaim(volume);
    }
    await this.unbindVolume(volume);
    return undefined;
  }

  /** Upstream unbindVolume: a binding the controller made goes; a user's pre-binding stays without the uid. */
  private async unbindVolume(volume: KObject): Promise<void> {
    const updated = await this.client.update(this.pvs, undefined, volume.metadata.name ?? "", "", (v) => {
      const byController = v.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER] !== undefined;
      if (byController) {
        delete specOf(v)["claimRef"];
        const a = { ...v.metadata.annotations };
        delete a[ANN_BOUND_BY_CONTROLLER];
        v.metadata.annotations = a;
      } else {
        const r = specOf(v)["claimRef"];
        if (isRecord(r)) {
          delete r["uid"];
          delete r["resourceVersion"];
        }
      }
      return v;
    });
    this.volumes.upsert(updated);
    await this.setVolumePhase(updated, "Available");
  }

  private async setVolumePhase(volume: KObject, phase: string, message?: string): Promise<KObject> {
    const st = statusOf(volume);
    if (st["phase"] === phase && (message === undefined || st["message"] === message)) return volume;
    const updated = await this.client.update(this.pvs, undefined, volume.metadata.name ?? "", "status", (v) => {
      if (v.metadata.uid !== volume.metadata.uid) throw new Changed();
      const s = isRecord(v["status"]) ? v["status"] : {};
      if (s["phase"] !== phase) s["lastPhaseTransitionTime"] = rfc3339(this.now());
      s["phase"] = phase;
      if (message) s["message"] = message;
      else delete s["message"];
      delete s["reason"];
      v["status"] = s;
      return v;
    });
    this.volumes.upsert(updated);
    return updated;
  }

  /** Upstream reclaimVolume, per spec.persistentVolumeReclaimPolicy. */
  private async reclaim(volume: KObject): Promise<ReconcileResult> {
    switch (reclaimPolicy(volume)) {
      case "Retain":
        return undefined;
      case "Recycle":
        return this.recycle(volume);
      case "Delete":
        return this.deleteVolume(volume);
      default:
        await this.failVolume(
          volume,
          "VolumeUnknownReclaimPolicy",
          "Volume has unrecognized PersistentVolumeReclaimPolicy",
        );
        return undefined;
    }
  }

  private async recycle(volume: KObject): Promise<ReconcileResult> {
    const ref = claimRefOf(volume);
    const users = ref ? this.claimUsers.of(`${ref.namespace}/${ref.name}`) : [];
    if (users.length > 0) {
      await this.event(volume, "Warning", "VolumeFailedRecycle", `Volume is used by pods: ${users.join(",")}`);
      return { requeueAfterMs: FAILED_RETRY_MS };
    }
    try {
      await recycleVolume(volume, this.opts);
    } catch (err) {
      const msg = err instanceof NoPluginError ? err.message : `Recycle failed: ${(err as Error).message}`;
      await this.failVolume(volume, "VolumeFailedRecycle", msg);
      return { requeueAfterMs: FAILED_RETRY_MS };
    }
    await this.event(volume, "Normal", "VolumeRecycled", "Volume recycled");
    await this.unbindVolume(volume);
    return undefined;
  }

  private async deleteVolume(volume: KObject): Promise<ReconcileResult> {
    const by = provisionedBy(volume);
    // a provisioner's volume is its to delete (the external-provisioner protocol)
    if (by !== "" && !by.startsWith("kubernetes.io/")) return undefined;
    try {
      await deleteStaticVolume(volume, this.opts);
    } catch (err) {
      await this.failVolume(volume, "VolumeFailedDelete", (err as Error).message);
      return { requeueAfterMs: FAILED_RETRY_MS };
    }
    await this.client.delete(this.pvs, undefined, volume.metadata.name ?? "", {
      preconditions: { uid: volume.metadata.uid ?? "" },
    });
    return undefined;
  }

  private async failVolume(volume: KObject, reason: string, message: string): Promise<void> {
    const repeated = statusOf(volume)["phase"] === "Failed" && statusOf(volume)["message"] === message;
    await this.setVolumePhase(volume, "Failed", message);
    if (!repeated) await this.event(volume, "Warning", reason, message);
    else log.debug("volume reclaim still failing", { volume: volume.metadata.name, reason });
  }

  private async event(obj: KObject, type: string, reason: string, message: string): Promise<void> {
    await recordEvent(this.client, obj, COMPONENT, type, reason, message, this.now());
  }
}

/** Upstream checkVolumeSatisfyClaim: why a volume the claim names cannot serve it ("" when it can). */
export function volumeSatisfiesClaim(volume: KObject, claim: KObject): string {
  if (claimRequestBytes(claim) > volumeCapacityBytes(volume)) return "requested PV is too small";
  if (volumeClass(volume) !== claimClass(claim)) return "storageClassName does not match";
  if (volumeMode(volume) !== volumeMode(claim)) return "incompatible volumeMode";
  if (!accessModesContain(accessModes(volume), accessModes(claim))) return "incompatible accessMode";
  return "";
}
