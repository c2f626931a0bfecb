/**
 * Storage defaults: PersistentVolume, PersistentVolumeClaim (core/v1) and storage.k8s.io/v1
 * (StorageClass, CSIDriver, VolumeAttachment).
 */
import { child, defaultPtr, defaultString, ensure, isEmpty, type Obj } from "./fields.js";
import { defaultResourceList, defaultResourceRequirements } from "./resources.js";

/** Upstream SetDefaults_PersistentVolumeClaimSpec and the spec's resource lists. */
export function defaultPersistentVolumeClaimSpec(spec: Obj): void {
  defaultPtr(spec, "volumeMode", "Filesystem");
  defaultResourceRequirements(child(spec, "resources"));
}

/** A PersistentVolumeClaim (also a StatefulSet's volumeClaimTemplates entry): spec defaults and status phase Pending. */
export function defaultPersistentVolumeClaim(pvc: Obj): void {
  const status = ensure(pvc, "status");
  if (status) {
    defaultString(status, "phase", "Pending");
    defaultResourceList(status, "capacity");
    defaultResourceList(status, "allocatedResources");
  }
  const spec = ensure(pvc, "spec");
  if (spec) defaultPersistentVolumeClaimSpec(spec);
}

/** Upstream SetDefaults_PersistentVolume and the nested volume source defaults. */
export function defaultPersistentVolume(pv: Obj): void {
  const status = ensure(pv, "status");
  if (status) defaultString(status, "phase", "Pending");
  const spec = ensure(pv, "spec");
  if (!spec) return;
  defaultString(spec, "persistentVolumeReclaimPolicy", "Retain");
  defaultPtr(spec, "volumeMode", "Filesystem");
  defaultPersistentVolumeSpec(spec);
}

/** What the generated defaulter reaches inside a PersistentVolumeSpec (also VolumeAttachment inline specs). */
export function defaultPersistentVolumeSpec(spec: Obj): void {
  defaultResourceList(spec, "capacity");
  defaultVolumeSource(spec);
}

/**
 * Defaults of the volume sources shared by pod volumes and PersistentVolume specs (hostPath type,
 * and the declarative defaults of the legacy in-tree sources).
 */
export function defaultVolumeSource(source: Obj): void {
  const hostPath = child(source, "hostPath");
  if (hostPath) defaultPtr(hostPath, "type", "");
  const iscsi = child(source, "iscsi");
  if (iscsi) defaultString(iscsi, "iscsiInterface", "default");
  const rbd = child(source, "rbd");
  if (rbd) {
    defaultString(rbd, "pool", "rbd");
    defaultString(rbd, "user", "admin");
    defaultString(rbd, "keyring", "/etc/ceph/keyring");
  }
  const azureDisk = child(source, "azureDisk");
  if (azureDisk) {
    defaultPtr(azureDisk, "cachingMode", "ReadWrite");
    defaultPtr(azureDisk, "fsType", "ext4");
    defaultPtr(azureDisk, "readOnly", false);
    defaultPtr(azureDisk, "kind", "Shared");
  }
  const scaleIO = child(source, "scaleIO");
  if (scaleIO) {
    defaultString(scaleIO, "storageMode", "ThinProvisioned");
    defaultString(scaleIO, "fsType", "xfs");
  }
}

/** storage.k8s.io/v1 StorageClass. */
export function defaultStorageClass(sc: Obj): void {
  defaultPtr(sc, "reclaimPolicy", "Delete");
  defaultPtr(sc, "volumeBindingMode", "Immediate");
}

/** storage.k8s.io/v1 CSIDriver. */
export function defaultCSIDriver(driver: Obj): void {
  const spec = ensure(driver, "spec");
  if (!spec) return;
  defaultPtr(spec, "attachRequired", true);
  defaultPtr(spec, "podInfoOnMount", false);
  defaultPtr(spec, "storageCapacity", false);
  defaultPtr(spec, "fsGroupPolicy", "ReadWriteOnceWithFSType");
  if (isEmpty(spec["volumeLifecycleModes"])) spec["volumeLifecycleModes"] = ["Persistent"];
  defaultPtr(spec, "requiresRepublish", false);
  defaultPtr(spec, "seLinuxMount", false);
}

/** storage.k8s.io/v1 VolumeAttachment: an inline PV spec gets the PV spec defaults. */
export function defaultVolumeAttachment(va: Obj): void {
  const source = child(child(va, "spec") ?? {}, "source");
  const inline = source ? child(source, "inlineVolumeSpec") : undefined;
  if (inline) defaultPersistentVolumeSpec(inline);
}
