/**
 * The ProvisionController's decisions as pure functions (upstream shouldProvision, shouldDelete,
 * handleProtectionFinalizer) and the PersistentVolume it writes for a provisioned claim.
 */
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_MIGRATED_TO,
  ANN_PROVISIONED_BY,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  accessModes,
  claimClass,
  PROVISIONER_DELETION_FINALIZER,
  reclaimPolicy,
  specOf,
  statusOf,
  volumeMode,
} from "../../../api/storage.js";
import { isRecord, type KObject } from "../../../api/types.js";
import type { ProvisionResult } from "./types.js";

/** The provisioner a claim asks for (volume.kubernetes.io/storage-provisioner, else the beta annotation), or "". */
export function claimProvisioner(claim: KObject): string {
  const a = claim.metadata.annotations ?? {};
  return a[ANN_STORAGE_PROVISIONER] ?? a[ANN_BETA_STORAGE_PROVISIONER] ?? "";
}

/** The node the scheduler chose for the claim, or "". */
export function selectedNodeOf(claim: KObject): string {
  return claim.metadata.annotations?.[ANN_SELECTED_NODE] ?? "";
}

/** The deterministic name of the volume provisioned for a claim (so a restart never makes a second one). */
export function pvNameFor(claim: KObject): string {
  return `pvc-${claim.metadata.uid ?? ""}`;
}

/** Whether a claim may be one for `provisioner` (what the claim alone says: not deleted, unbound, asking for it). */
export function asksFor(claim: KObject, provisioner: string): boolean {
  if (claim.metadata.deletionTimestamp) return false;
  const volumeName = specOf(claim)["volumeName"];
  if (typeof volumeName === "string" && volumeName !== "") return false;
  return claimProvisioner(claim) === provisioner;
}

/** A StorageClass's volumeBindingMode (default Immediate). */
export function bindingMode(sc: KObject): string {
  const m = sc["volumeBindingMode"];
  return typeof m === "string" && m !== "" ? m : "Immediate";
}

/** A StorageClass's reclaimPolicy for the volumes it makes (default Delete). */
export function classReclaimPolicy(sc: KObject): string {
  const p = sc["reclaimPolicy"];
  return typeof p === "string" && p !== "" ? p : "Delete";
}

/** What to do with a claim: provision it, wait for its class or for the scheduler's node, or nothing. */
export type ClaimDecision = "provision" | "skip" | "wait-for-class" | "wait-for-node";

/** Upstream shouldProvision: `sc` is the claim's class as found (undefined when missing). */
export function provisionDecision(claim: KObject, provisioner: string, sc: KObject | undefined): ClaimDecision {
  if (!asksFor(claim, provisioner)) return "skip";
  if (!sc || sc.metadata.deletionTimestamp) return "wait-for-class";
  if (sc["provisioner"] !== provisioner) return "skip";
  if (bindingMode(sc) === "WaitForFirstConsumer" && selectedNodeOf(claim) === "") return "wait-for-node";
  return "provision";
}

function hasFinalizer(obj: KObject, f: string): boolean {
  return obj.metadata.finalizers?.includes(f) ?? false;
}

/** Whether the volume was provisioned by `provisioner` (provisioned-by, or migrated-to). */
export function isProvisionedBy(pv: KObject, provisioner: string): boolean {
  const a = pv.metadata.annotations ?? {};
  return a[ANN_PROVISIONED_BY] === provisioner || a[ANN_MIGRATED_TO] === provisioner;
}

/**
 * Whether the volume's storage should be deleted now: reclaim policy Delete and phase Released,
 * or being deleted with the deletion finalizer still on and not Bound. A volume being deleted
 * without the finalizer was deleted already.
 */
export function shouldDelete(pv: KObject): boolean {
  if (reclaimPolicy(pv) !== "Delete") return false;
  const phase = statusOf(pv)["phase"];
  if (pv.metadata.deletionTimestamp) return hasFinalizer(pv, PROVISIONER_DELETION_FINALIZER) && phase !== "Bound";
  return phase === "Released";
}

/**
 * The finalizers the volume should have (upstream handleProtectionFinalizer): the deletion
 * finalizer is added to a Bound volume with policy Delete (volumes made before it existed) and
 * removed when the policy became Retain or Recycle; undefined when nothing changes.
 */
export function finalizersWanted(pv: KObject): string[] | undefined {
  const has = hasFinalizer(pv, PROVISIONER_DELETION_FINALIZER);
  const policy = reclaimPolicy(pv);
  const current = pv.metadata.finalizers ?? [];
  if (!has && policy === "Delete" && !pv.metadata.deletionTimestamp && statusOf(pv)["phase"] === "Bound") {
    return [...current, PROVISIONER_DELETION_FINALIZER];
  }
  if (has && (policy === "Retain" || policy === "Recycle")) {
    return current.filter((f) => f !== PROVISIONER_DELETION_FINALIZER);
  }
  return undefined;
}

/** The claim's storage request as written (the volume's default capacity), or undefined. */
export function requestedStorage(claim: KObject): string | undefined {
  const resources = specOf(claim)["resources"];
  const requests = isRecord(resources) ? resources["requests"] : undefined;
  const storage = isRecord(requests) ? requests["storage"] : undefined;
  if (typeof storage === "string") return storage;
  return typeof storage === "number" ? String(storage) : undefined;
}

/**
 * The volume for a provisioned claim: named `pvName`, pre-bound to the claim (the PV controller
 * binds both), of the claim's class, access modes and volume mode, the class's reclaim policy and
 * mount options, with the provisioner's source and the deletion finalizer when its policy is Delete.
 */
export function buildVolume(
  claim: KObject,
  sc: KObject,
  pvName: string,
  provisioner: string,
  result: ProvisionResult,
): KObject {
  const policy = classReclaimPolicy(sc);
  const storage = result.capacity ?? requestedStorage(claim) ?? "0";
  const spec: Record<string, unknown> = {
    ...result.source,
    capacity: { storage },
    accessModes: accessModes(claim),
    volumeMode: volumeMode(claim),
    persistentVolumeReclaimPolicy: policy,
    storageClassName: claimClass(claim),
    claimRef: {
      kind: "PersistentVolumeClaim",
      apiVersion: "v1",
      namespace: claim.metadata.namespace,
      name: claim.metadata.name,
      uid: claim.metadata.uid,
      resourceVersion: claim.metadata.resourceVersion,
    },
  };
  const mountOptions = sc["mountOptions"];
  if (Array.isArray(mountOptions) && mountOptions.length > 0) spec["mountOptions"] = [...mountOptions];
  if (result.nodeAffinity) spec["nodeAffinity"] = result.nodeAffinity;
  const metadata: KObject["metadata"] = {
    name: pvName,
    annotations: { ...result.annotations, [ANN_PROVISIONED_BY]: provisioner },
  };
  if (result.labels && Object.keys(result.labels).length > 0) metadata.labels = { ...result.labels };
  if (policy === "Delete") metadata.finalizers = [PROVISIONER_DELETION_FINALIZER];
  return { apiVersion: "v1", kind: "PersistentVolume", metadata, spec };
}
