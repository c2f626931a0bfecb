/**
 * The storage admission plug-ins of kube-apiserver, on the watch cache:
 * - DefaultStorageClass: a new claim that names no class gets the default class's name;
 * - StorageObjectInUseProtection: new claims carry kubernetes.io/pvc-protection and new volumes
 *   kubernetes.io/pv-protection, so neither goes while in use (the protection controllers
 *   remove the finalizers once it is safe);
 * - PersistentVolumeClaimResize: a bound claim may ask for more storage only when its class
 *   allows volume expansion.
 */
import {
  claimClass,
  claimClassUnset,
  claimRequestBytes,
  defaultClass,
  PV_PROTECTION_FINALIZER,
  PVC_PROTECTION_FINALIZER,
} from "../api/storage.js";
import { isRecord, type KObject } from "../api/types.js";
import { forbidden } from "./errors.js";
import type { WatchCache } from "./watchcache.js";

const CLASSES = "/registry/storage.k8s.io/storageclasses/";

function addFinalizer(obj: KObject, f: string): void {
  const fs = obj.metadata.finalizers ?? [];
  if (!fs.includes(f)) obj.metadata.finalizers = [...fs, f];
}

/** The mutating plug-ins (DefaultStorageClass, StorageObjectInUseProtection), on core/v1 objects being created. */
export function mutateStorage(cache: WatchCache, kind: string, obj: KObject): void {
  if (kind === "PersistentVolume") addFinalizer(obj, PV_PROTECTION_FINALIZER);
  if (kind !== "PersistentVolumeClaim") return;
  addFinalizer(obj, PVC_PROTECTION_FINALIZER);
  if (claimClassUnset(obj)) {
    const def = defaultClass(
      cache
        .resource(CLASSES)
        .list()
        .map((c) => c.obj),
    );
    if (def && isRecord(obj["spec"])) obj["spec"]["storageClassName"] = def.metadata.name;
  }
}

/** PersistentVolumeClaimResize, after validation: a claim update that asks for more storage. */
export function validateClaimResize(cache: WatchCache, obj: KObject, old: KObject): void {
  if (claimRequestBytes(obj) <= claimRequestBytes(old)) return;
  const name = obj.metadata.name ?? "";
  const why = (m: string) => forbidden("", "persistentvolumeclaims", name, m);
  if (!isRecord(old["status"]) || old["status"]["phase"] !== "Bound") {
    throw why("Only bound persistent volume claims can be expanded");
  }
  const cls = claimClass(obj);
  const sc =
    cls === "" || cls !== claimClass(old) ? undefined : cache.resource(CLASSES).items.get(`${CLASSES}${cls}`)?.obj;
  if (sc?.["allowVolumeExpansion"] !== true) {
    throw why(
      "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize",
    );
  }
}
